using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Points.Lots;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Model;

/// <summary>The clients of one or more hosts sharing one database.</summary>
/// <param name="clock">The lifecycle's clock, which every host reads; null in the cards' world.</param>
public sealed class LiveHosts(IReadOnlyList<PatronApp> apps, Func<PatronApp, string, HttpClient> client, RunClock? clock = null)
{
    private readonly HttpClient[] _partners = [.. apps.Select(a => client(a, TestCatalog.ApiKey))];
    private readonly HttpClient[] _others = [.. apps.Select(a => client(a, TestCatalog.OtherApiKey))];
    private readonly HttpClient[] _operators = [.. apps.Select(a => client(a, TestCatalog.AdminToken))];
    private readonly OpenApiClient[] _open = [.. apps.Select(a => new OpenApiClient(a.CreateClient()))];

    /// <summary>Requests sent by every run, for the test's summary.</summary>
    public int Sent;

    /// <summary>What the runs that passed were answered, by kind of request and code: shows what the test reached.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> Answers { get; } = new();

    public void Tally(WriteModel model)
    {
        foreach (var (op, answer) in model.Log)
            Answers.AddOrUpdate($"{op.GetType().Name} {string.Join(' ', answer.Split(' ').Take(answer.StartsWith("ok", StringComparison.Ordinal) ? 1 : 2))}", 1, (_, n) => n + 1);
        foreach (var (kind, count) in model.RowKinds())
            Answers.AddOrUpdate(kind, count, (_, n) => n + count);
        Answers.AddOrUpdate("replays of a success", model.Replays.Replays, (_, n) => n + model.Replays.Replays);
        Answers.AddOrUpdate("replays of a success that would now fail", model.Replays.NowFailing, (_, n) => n + model.Replays.NowFailing);
    }

    public int Count => apps.Count;
    public PatronApp App => apps[0];
    public HttpClient Partner(int host) => _partners[host % Count];

    /// <summary>The client of a partner channel: 0 hkl-test, 1 the other channel.</summary>
    public HttpClient Partner(int host, int channel) => channel == 0 ? _partners[host % Count] : _others[host % Count];

    public PatronApp Host(int host) => apps[host % Count];

    public RunClock? Clock => clock;
    public HttpClient Operator(int host) => _operators[host % Count];
    public OpenApiClient Open(int host) => _open[host % Count];
}

/// <summary>
/// The service under test, one run's view of it: its own members and its own keys, useNos and
/// saleNos (a prefix), so that runs can share a database. Ids the service chooses (ledger rows,
/// card codes) are named after the request that first showed them, so that the answers compare
/// with the model's as text.
/// </summary>
public sealed partial class LiveWrites(LiveHosts hosts, World world) : WriteState(world)
{
    private const long NoSuchMember = 8_999_999_999;
    private static long LastMemberId = 1_000_000;
    private readonly string _ns = "m" + Guid.NewGuid().ToString("N")[..10] + "-";
    private readonly Dictionary<long, string> _rows = [];
    private readonly Dictionary<string, string> _cards = [];
    private readonly Dictionary<string, string[]> _saleCards = [];
    private readonly SemaphoreSlim _membersGate = new(1, 1);
    private (long Id, string Code)[]? _members;
    private readonly Lock _finalLock = new();
    private IReadOnlyList<string>? _final;
    private int _matched;

    public LiveHosts Hosts => hosts;

    /// <summary>True once: a concurrent run may match several orders, and is counted in the summary once.</summary>
    public bool FirstMatch() => Interlocked.Exchange(ref _matched, 1) == 0;

    /// <summary>
    /// The clock never moves while a request is in flight: a batch reads it before it takes its
    /// locks, and a run of the settling job when it looks for members due and again when it settles
    /// each. In production the clock moves by milliseconds meanwhile; here an Advance moves it by
    /// hours, and a request would be stamped hours before a change it saw. So an Advance waits for
    /// the requests in flight, and they for it.
    /// </summary>
    private readonly ReaderWriterLockSlim _clockLock = new();

    public void Apply(Op op)
    {
        Interlocked.Increment(ref hosts.Sent);
        var held = op is Advance ? _clockLock.EnterWriteLock : (Action)_clockLock.EnterReadLock;
        held();
        try
        {
            Record(op, Task.Run(() => SendAsync(op)).GetAwaiter().GetResult());
        }
        finally
        {
            if (op is Advance)
                _clockLock.ExitWriteLock();
            else
                _clockLock.ExitReadLock();
        }
    }

    private async Task<string> SendAsync(Op op)
    {
        var members = await MembersAsync();
        switch (op)
        {
            case SendPoints p:
                var r = Requests.Points(World, p);
                var envelope = await hosts.Partner(op.Host, r.Channel).AddPointsAsync(MemberId(members, r.Member), r.BusiType, r.Change, r.Bill, _ns + r.Key);
                return envelope.Errcode != 0 ? Say.Error(envelope.Errcode)
                    : Say.Points(envelope.TagLong("ValuePointBefore"), envelope.TagLong("ValuePointAfter"), (int)envelope.TagLong("MemberLevelIdBefore"),
                        (int)envelope.TagLong("MemberLevelIdAfter"), Row(envelope.TagLong("AutoId"), r.Key), envelope.Errmsg);
            case Adjust a:
                using (var response = await hosts.Operator(op.Host).PostAsJsonAsync($"/api/v1/members/{MemberId(members, a.Member)}/points",
                    new { busiType = a.BusiType, busiBillNum = "ADJ", changeValue = a.Change }))
                {
                    var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                    return response.StatusCode switch
                    {
                        HttpStatusCode.Created => Say.Points(Long(json, "balanceBefore"), Long(json, "balanceAfter"), (int)Long(json, "levelBefore"),
                            (int)Long(json, "levelAfter"), Row(Long(json, "autoId"), "adj"),
                            Say.Columns(Long(json, "earned"), Long(json, "pendingValue"), Long(json, "shortfall"))),
                        HttpStatusCode.BadRequest => Say.Error(1004),
                        _ => Say.Error(json["code"]?.GetValue<int>() ?? (int)response.StatusCode),
                    };
                }
            case Advance a:
                hosts.Clock!.Advance(TimeSpan.FromHours(a.Hours));
                return $"ok +{a.Hours} h";
            case Settle:
                await hosts.Host(op.Host).Services.GetRequiredService<PointsSettler>().RunOnceAsync(CancellationToken.None);
                return "ok settled";
            case SetLevel l:
                var set = await hosts.Partner(op.Host).PostRawAsync(PointsWireClient.LevelSet,
                    new JsonObject { ["MemberList"] = new JsonArray(MemberId(members, l.Member)), ["LevelId"] = l.Level }.ToJsonString(), "application/json");
                return set.Errcode != 0 ? Say.Error(set.Errcode) : "ok " + set.Tag!.GetValue<string>();
            case Sell s:
                var sale = Requests.Sale(World, s);
                var sold = await hosts.Open(op.Host).CallAsync("sendMncardForSale", new
                {
                    cardInfoId = sale.Card, saleTime = sale.SaleTime, saleUser = "1345", num = sale.Num.ToString(CultureInfo.InvariantCulture),
                    saleOrgCode = "526", payAmt = sale.PayAmt, saleNo = _ns + sale.SaleNo,
                    memberId = sale.Member < members.Length ? members[sale.Member].Code : _ns + "nobody",
                });
                if (sold.Code != 0)
                    return Say.Error(sold.Code);
                var cards = sold.Data!["cards"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()).ToArray();
                lock (_cards)
                {
                    _saleCards.TryAdd(sale.SaleNo, cards);
                    for (var i = 0; i < cards.Length; i++)
                        _cards.TryAdd(cards[i], $"{sale.SaleNo}.{i}");
                }
                return $"ok {Member(sold.Data["memberId"]!.GetValue<string>())} pay {Say.Money(sold.Data["payAmt"]!.GetValue<decimal>())} " +
                    $"[{string.Join(" | ", sold.Data["cards"]!.AsArray().Select(c => CardText(c!)))}]";
            case Use u:
                var use = Requests.Use(World, u);
                string code;
                lock (_cards)
                    code = _saleCards.TryGetValue($"s{use.Sale}", out var codes) && use.CardIndex < codes.Length ? codes[use.CardIndex] : "LNOSUCHCARD00";
                return Entry(await hosts.Open(op.Host).UseAsync(code, _ns + use.UseNo, use.UseTime, use.Product, use.Posid));
            case Cancel c:
                return Entry(await hosts.Open(op.Host).CancelAsync($"{_ns}u{c.Template}"));
            case Refund f:
                var amount = Requests.RefundAmt(f);
                var saleNo = $"{_ns}s{f.Template}";
                var refunded = await hosts.Open(op.Host).CallAsync("refundMncardForSale",
                    amount is { } amt ? new { saleNo, refundAmt = amt.ToString("0.00", CultureInfo.InvariantCulture) } : (object)new { saleNo });
                if (refunded.Code != 0)
                    return Say.Error(refunded.Code);
                var refundAmt = refunded.Data!["refundAmt"]?.GetValue<decimal>();
                var texts = refunded.Data["cards"]!.AsArray().Select(c => CardText(c!)).Order(StringComparer.Ordinal);
                return $"ok st {refunded.Data["status"]!.GetValue<string>()} refund {Say.Money(refundAmt)} [{string.Join(" | ", texts)}]";
            default:
                throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    /// <summary>Made at the first operation, so that generating a run (CsCheck does it again to print one) costs nothing.</summary>
    private async Task<(long Id, string Code)[]> MembersAsync()
    {
        await _membersGate.WaitAsync(); // the first operations of a concurrent run arrive together
        try
        {
            return _members ??= await CreateMembersAsync();
        }
        finally
        {
            _membersGate.Release();
        }
    }

    private async Task<(long Id, string Code)[]> CreateMembersAsync()
    {
        // The run begins: its members' anniversaries count from its start.
        if (World.Start is { } start)
            hosts.Clock!.Set(start);
        var members = new (long, string)[ModelCatalog.Members];
        for (var i = 0; i < members.Length; i++)
        {
            // Ids chosen here: with a code given, a generated id that races another create is refused (409).
            var id = Interlocked.Increment(ref LastMemberId);
            using var response = await hosts.Operator(0).PostAsJsonAsync("/api/v1/members", new { id, code = $"{_ns}{i}", name = $"model {i}" });
            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            if (response.StatusCode != HttpStatusCode.Created)
                throw new InvalidOperationException($"creating a member: {(int)response.StatusCode} {json}");
            members[i] = (Long(json, "id"), json["code"]!.GetValue<string>());
        }
        return members;
    }

    private static long MemberId((long Id, string Code)[] members, int member) => member < members.Length ? members[member].Id : NoSuchMember;

    private static long Long(JsonNode json, string name) => json[name]!.GetValue<long>();

    private string Row(long autoId, string label)
    {
        lock (_rows)
            return _rows.TryAdd(autoId, label) ? label : _rows[autoId];
    }

    private string Card(string code)
    {
        lock (_cards)
            return _cards.GetValueOrDefault(code) ?? "?" + code;
    }

    private string Member(string code) => Array.FindIndex(_members!, m => m.Code == code) is var i and >= 0 ? $"m{i}" : "?" + code;

    private string Entry(OpenApiAnswer answer) => answer.Code != 0 ? Say.Error(answer.Code) : "ok " + EntryText(answer.Data!);

    private string EntryText(JsonNode e) => Say.Entry(Card(e["memberCardId"]!.GetValue<string>()), e["cardProductId"]!.GetValue<string>(),
        e["hasUsedNum"]!.GetValue<int>(), e["lastCycle"]!.GetValue<int>(), e["lastCycleUsed"]!.GetValue<int>(), e["posid"]!.GetValue<string>(),
        e["lockVersion"]!.GetValue<int>(), e["status"]!.GetValue<string>());

    private string CardText(JsonNode c) => Say.Card(Card(c["id"]!.GetValue<string>()), c["status"]!.GetValue<string>(), c["lockVersion"]!.GetValue<int>(),
        c["beginTime"]!.GetValue<long>(), c["endTime"]!.GetValue<long>(), c["memberUsedList"]!.AsArray().Select(e => EntryText(e!)));
}
