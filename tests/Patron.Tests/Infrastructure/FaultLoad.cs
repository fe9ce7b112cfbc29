using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Compat;

namespace Patron.Tests.Infrastructure;

/// <summary>What one attempt of one request came back with.</summary>
public enum AttemptResult
{
    /// <summary>A final answer: success, or a rule's refusal (a quota used up).</summary>
    Answered,
    /// <summary>Code 5000 in the API's envelope: try again later.</summary>
    Unavailable,
    /// <summary>No answer: connection refused or cut, or the client's timeout.</summary>
    NoAnswer,
    /// <summary>Anything else: an answer outside the envelope or a code no retry should meet.</summary>
    Unexpected,
}

/// <summary>One attempt; <paramref name="Id"/> is the request's Idempotency-Key or useNo.</summary>
public sealed record Attempt(TimeSpan Start, TimeSpan Elapsed, AttemptResult Result, HttpStatusCode? Status, string Detail, Uri Target, string Id = "");

/// <summary>
/// Partners under faults: clients that add one point to a random member, or use a random card,
/// each request with its own Idempotency-Key or useNo, and retry every unanswered request with
/// the same key and the very same body until it is answered. They remember every key sent and
/// every answer, for checking the database afterwards.
/// </summary>
public sealed class FaultLoad : IAsyncDisposable
{
    private const string PointAdd = "/api/Setting/KH_GRHY/Point/Add";

    private readonly IReadOnlyList<(Uri Target, HttpClient Http)> _targets;
    private readonly IReadOnlyList<string> _cards;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly DateTimeOffset _epoch = DateTimeOffset.UtcNow;

    // The services run in their own processes, on the system clock: the cards are sold 20 days
    // back, well inside a channel's 31 days, and used on the days since.
    private static readonly DateTime SaleDay = TestWorld.LocalDate(DateTimeOffset.UtcNow.AddDays(-20));
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients = [];
    private readonly ConcurrentDictionary<Uri, TaskCompletionSource> _answered = new();

    public FaultLoad(IEnumerable<Uri> targets, IReadOnlyList<string> cards)
    {
        _targets = [.. targets.Select(t => (t, new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(2) })
        {
            BaseAddress = t, Timeout = TimeSpan.FromSeconds(10),
        }))];
        _cards = cards;
    }

    /// <summary>Point/Add keys sent, with their member; each adds exactly one point.</summary>
    public ConcurrentDictionary<string, long> PointKeys { get; } = new();

    /// <summary>The AutoId each answered Point/Add got.</summary>
    public ConcurrentDictionary<string, long> PointAnswers { get; } = new();

    /// <summary>useNos sent, with their card.</summary>
    public ConcurrentDictionary<string, string> UseNos { get; } = new();

    /// <summary>The code each answered use got: 0, 2103 or 2104.</summary>
    public ConcurrentDictionary<string, int> UseAnswers { get; } = new();

    public ConcurrentQueue<Attempt> Attempts { get; } = new();

    /// <summary>Time since the load was created, the clock of <see cref="Attempt.Start"/>.</summary>
    public TimeSpan Now => _clock.Elapsed;

    public int Retries => Attempts.Count - PointAnswers.Count - UseAnswers.Count;

    /// <summary>
    /// Requests that a kill caught between COMMIT and the answer, found by <see cref="VerifyAsync"/>:
    /// an attempt cut off (connection reset) whose row was written while that very attempt was open.
    /// A retry cannot have written it: retries of one request never overlap in time.
    /// </summary>
    public int CommittedButUnanswered => CommittedButUnansweredAttempts.Count;

    public IReadOnlyList<Attempt> CommittedButUnansweredAttempts { get; private set; } = [];

    /// <summary>
    /// Completes, on the answering client's own thread, as the next answer from <paramref name="target"/>
    /// arrives: the moment when the rest of its commit batch is being answered, which a kill then cuts off.
    /// </summary>
    public Task NextAnswerAsync(Uri target) => _answered.GetOrAdd(target, _ => new TaskCompletionSource()).Task;

    public void Start(int clients, int members)
    {
        for (var c = 0; c < clients; c++)
        {
            var client = c;
            _clients.Add(Task.Run(() => RunClientAsync(client, members)));
        }
    }

    /// <summary>Stops sending new requests and waits until every request sent has been answered.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
    }

    private async Task RunClientAsync(int client, int members)
    {
        var random = new Random(client);
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            if (random.Next(10) < 7)
            {
                var key = $"c{client}-p{n}";
                var member = random.Next(1, members + 1);
                PointKeys[key] = member;
                var body = JsonSerializer.SerializeToUtf8Bytes(new { MemberId = member, BusiType = "P", BusiBillNum = key, ChangeValue = 1 });
                var answer = await UntilAnsweredAsync(client, PointAdd, body, key, key, "errcode");
                PointAnswers[key] = answer["tag"]!["AutoId"]!.GetValue<long>();
            }
            else
            {
                var useNo = $"c{client}-u{n}";
                var card = _cards[random.Next(_cards.Count)];
                UseNos[useNo] = card;
                var useTime = SaleDay.AddHours(12).AddDays(random.Next(0, 20)).ToString("yyyy-MM-dd HH:mm:ss");
                var param = JsonSerializer.Serialize(new { memberCardId = card, cardProductId = "P-NOODLE", posid = "POS-F", useNo, useTime });
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString();
                var envelope = JsonSerializer.SerializeToUtf8Bytes(new
                {
                    channel = "hkl-test", timestamp,
                    param = OpenApiCipher.Encrypt(OpenApiCipher.Des, TestCatalog.DesKey, param, "hkl-test", timestamp),
                });
                var answer = await UntilAnsweredAsync(client, "/openapi/v1/useMncard", envelope, null, useNo, "code");
                UseAnswers[useNo] = answer["code"]!.GetValue<int>();
            }
        }
    }

    /// <summary>Sends the same bytes until an answer that is not "try again" comes back; gives up after 90 s.</summary>
    private async Task<JsonNode> UntilAnsweredAsync(int client, string path, byte[] body, string? key, string id, string codeName)
    {
        var giveUp = Now + TimeSpan.FromSeconds(90);
        for (var attempt = 0; ; attempt++)
        {
            var (target, http) = _targets[(client + attempt) % _targets.Count];
            var start = Now;
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.Authorization = new("Bearer", TestCatalog.ApiKey);
            if (key is not null)
                request.Headers.Add("Idempotency-Key", key);
            HttpStatusCode? status = null;
            string text;
            try
            {
                using var response = await http.SendAsync(request);
                status = response.StatusCode;
                text = await response.Content.ReadAsStringAsync();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                Attempts.Enqueue(new Attempt(start, Now - start, AttemptResult.NoAnswer, null, e.GetType().Name, target, id));
                if (Now > giveUp)
                    throw new TimeoutException($"{path} {key} unanswered for 90 s");
                await Task.Delay(50);
                continue;
            }

            var json = TryParse(text);
            var code = json?[codeName]?.GetValueKind() == JsonValueKind.Number ? json[codeName]!.GetValue<int>() : (int?)null;
            var result = code switch
            {
                0 or 2103 or 2104 => AttemptResult.Answered,
                5000 => AttemptResult.Unavailable,
                _ => AttemptResult.Unexpected,
            };
            Attempts.Enqueue(new Attempt(start, Now - start, result, status, text.Length > 300 ? text[..300] : text, target, id));
            if (result == AttemptResult.Answered)
            {
                if (_answered.TryRemove(target, out var waiting))
                    waiting.TrySetResult();
                return json!;
            }
            if (result == AttemptResult.Unexpected || Now > giveUp)
                throw new InvalidOperationException($"{path} {key}: HTTP {(int?)status} {text}");
            await Task.Delay(50);
        }
    }

    private static JsonNode? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Checks the database against what the clients were told: every key counted exactly once,
    /// balances equal to their ledgers, every answered write present, no quota exceeded.
    /// </summary>
    public async Task<string> VerifyAsync(PatronApp app, int members)
    {
        var balances = await app.QueryAsync(db => db.Members.ToDictionaryAsync(m => m.Id, m => m.Balance));
        var ledger = await app.QueryAsync(db => db.PointEntries.Select(p => new { p.MemberId, p.ChangeValue, p.IdempotencyKey, p.AutoId, p.CreatedAt }).ToListAsync());

        // Every key sent is in the ledger exactly once, and nothing else is.
        Assert.Equal(ledger.Count, ledger.Select(p => p.IdempotencyKey).Distinct().Count());
        Assert.Equal(PointKeys.Keys.Order(), ledger.Select(p => p.IdempotencyKey!).Order());
        for (var id = 1L; id <= members; id++)
        {
            var member = id;
            var sent = PointKeys.Count(k => k.Value == member);
            Assert.True(sent == balances[member], $"member {member}: {sent} keys sent, balance {balances[member]}");
            Assert.Equal(balances[member], ledger.Where(p => p.MemberId == member).Sum(p => p.ChangeValue));
        }
        var byKey = ledger.ToDictionary(p => p.IdempotencyKey!);
        foreach (var (key, autoId) in PointAnswers)
            Assert.True(byKey[key].AutoId == autoId, $"{key} was answered with AutoId {autoId}, the ledger has {byKey[key].AutoId}");

        var uses = await app.QueryAsync(db => db.CardUses.Where(u => u.CancelledAt == null).ToListAsync());
        var entries = await app.QueryAsync(db => db.UsageEntries.ToListAsync());
        Assert.Equal(uses.Count, uses.Select(u => u.UseNo).Distinct().Count());
        Assert.Equal(UseAnswers.Where(a => a.Value == 0).Select(a => a.Key).Order(), uses.Select(u => u.UseNo).Order());
        foreach (var use in uses)
            Assert.Equal(UseNos[use.UseNo], use.MemberCardId);
        foreach (var entry in entries)
        {
            var own = uses.Where(u => u.UsageEntryId == entry.Id).ToList();
            Assert.True(own.Count <= entry.TotalUsedNum, $"entry {entry.Id}: {own.Count} uses of {entry.TotalUsedNum}");
            Assert.Equal(own.Count, entry.HasUsedNum);
            foreach (var cycle in own.GroupBy(u => u.Cycle))
                Assert.True(cycle.Count() <= entry.CycleNum, $"entry {entry.Id}, cycle {cycle.Key}: {cycle.Count()} uses of {entry.CycleNum}");
        }

        var written = ledger.Select(p => (Id: p.IdempotencyKey!, At: p.CreatedAt))
            .Concat(uses.Select(u => (Id: u.UseNo, At: DateTimeOffset.FromUnixTimeMilliseconds(u.CreatedAt))));
        CommittedButUnansweredAttempts = FindCommittedButUnanswered(written);
        var outcomes = Attempts.GroupBy(a => a.Result).ToDictionary(g => g.Key, g => g.Count());
        return $"{PointKeys.Count} point adds and {UseNos.Count} card uses ({UseAnswers.Count(a => a.Value == 0)} used, " +
               $"{UseAnswers.Count(a => a.Value != 0)} refused by a quota) in {Attempts.Count} attempts: " +
               string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")) + "; lost 0, doubled 0; " +
               $"committed but unanswered (killed between COMMIT and answer) {CommittedButUnanswered}";
    }

    private List<Attempt> FindCommittedButUnanswered(IEnumerable<(string Id, DateTimeOffset At)> written)
    {
        // A timeout is no kill: only attempts whose connection was cut or refused count.
        var cut = Attempts.Where(a => a.Result == AttemptResult.NoAnswer && a.Detail != nameof(TaskCanceledException))
            .ToLookup(a => a.Id);
        // The service's clock and this Stopwatch may disagree by a little; retries are >= 50 ms apart.
        var slack = TimeSpan.FromMilliseconds(10);
        return [.. written.SelectMany(w => cut[w.Id].Where(a => _epoch + a.Start - slack <= w.At && w.At <= _epoch + a.Start + a.Elapsed + slack))];
    }

    /// <summary>Per kill: attempts it cut off in flight, and of those the ones whose write had committed.</summary>
    public static string DescribeKills(FaultLoad load, IEnumerable<(TimeSpan From, TimeSpan To)> kills) => "per kill, attempts cut in flight (committed): " + string.Join(", ",
        kills.Select(k => (Cut: load.Attempts.Count(a => a.Result == AttemptResult.NoAnswer && a.Start <= k.To && a.Start + a.Elapsed >= k.From),
                Committed: load.CommittedButUnansweredAttempts.Count(a => a.Start <= k.To && a.Start + a.Elapsed >= k.From)))
            .Select(c => $"{c.Cut} ({c.Committed})"));

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
            await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_clients);
        }
        catch (Exception)
        {
            // the test has already failed on it
        }
        foreach (var (_, http) in _targets)
            http.Dispose();
        _stop.Dispose();
    }

    /// <summary>Sells one card per sale through the open API before the faults begin, and returns their ids.</summary>
    public static async Task<string[]> SellCardsAsync(Uri target, int count, string saleNoPrefix = "F-")
    {
        using var http = new HttpClient { BaseAddress = target };
        var openApi = new OpenApiClient(http, TimeProvider.System);
        var cards = new string[count];
        for (var i = 0; i < count; i++)
        {
            var sold = await openApi.SellAsync($"{saleNoPrefix}{i}", saleTime: SaleDay.AddHours(10).ToString("yyyy-MM-dd HH:mm:ss"), memberId: $"M{i % TestCatalog.MemberCount + 1:D4}");
            Assert.True(sold.Code == 0, sold.Msg);
            cards[i] = sold.Data!["id"]!.GetValue<string>();
        }
        return cards;
    }
}
