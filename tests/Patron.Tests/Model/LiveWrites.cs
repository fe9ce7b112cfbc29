using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Model;

/// <summary>The clients of one or more hosts sharing one database.</summary>
public sealed class LiveHosts(IReadOnlyList<PatronApp> apps, Func<PatronApp, string, HttpClient> client)
{
    private readonly HttpClient[] _partners = [.. apps.Select(a => client(a, TestCatalog.ApiKey))];
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
        Answers.AddOrUpdate("replays of a success", model.Replays.Replays, (_, n) => n + model.Replays.Replays);
        Answers.AddOrUpdate("replays of a success that would now fail", model.Replays.NowFailing, (_, n) => n + model.Replays.NowFailing);
    }

    public int Count => apps.Count;
    public PatronApp App => apps[0];
    public HttpClient Partner(int host) => _partners[host % Count];
    public HttpClient Operator(int host) => _operators[host % Count];
    public OpenApiClient Open(int host) => _open[host % Count];
}

/// <summary>
/// The service under test, one run's view of it: its own members and its own keys, useNos and
/// saleNos (a prefix), so that runs can share a database. Ids the service chooses (ledger rows,
/// card codes) are named after the request that first showed them, so that the answers compare
/// with the model's as text.
/// </summary>
public sealed class LiveWrites(LiveHosts hosts, World world) : WriteState(world)
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

    public void Apply(Op op)
    {
        Interlocked.Increment(ref hosts.Sent);
        Record(op, Task.Run(() => SendAsync(op)).GetAwaiter().GetResult());
    }

    private async Task<string> SendAsync(Op op)
    {
        var members = await MembersAsync();
        switch (op)
        {
            case SendPoints p:
                var r = Requests.Points(World, p);
                var envelope = await hosts.Partner(op.Host).AddPointsAsync(MemberId(members, r.Member), r.BusiType, r.Change, r.Bill, _ns + r.Key);
                return envelope.Errcode != 0 ? Say.Error(envelope.Errcode)
                    : Say.Points(envelope.TagLong("ValuePointBefore"), envelope.TagLong("ValuePointAfter"), (int)envelope.TagLong("MemberLevelIdBefore"),
                        (int)envelope.TagLong("MemberLevelIdAfter"), Row(envelope.TagLong("AutoId"), r.Key));
            case Adjust a:
                using (var response = await hosts.Operator(op.Host).PostAsJsonAsync($"/api/v1/members/{MemberId(members, a.Member)}/points",
                    new { busiType = a.BusiType, busiBillNum = "ADJ", changeValue = a.Change }))
                {
                    var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                    return response.StatusCode switch
                    {
                        HttpStatusCode.Created => Say.Points(Long(json, "balanceBefore"), Long(json, "balanceAfter"), (int)Long(json, "levelBefore"),
                            (int)Long(json, "levelAfter"), Row(Long(json, "autoId"), "adj")),
                        HttpStatusCode.BadRequest => Say.Error(1004),
                        _ => Say.Error(json["code"]?.GetValue<int>() ?? (int)response.StatusCode),
                    };
                }
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

    /// <summary>Read once, after the last operation: equal() may be called once per linearization.</summary>
    public override IReadOnlyList<string> Final()
    {
        lock (_finalLock)
            return _final ??= Task.Run(ReadFinalAsync).GetAwaiter().GetResult();
    }

    private async Task<IReadOnlyList<string>> ReadFinalAsync()
    {
        var ids = (await MembersAsync()).Select(m => m.Id).ToArray();
        return await hosts.App.QueryAsync(db => ReadFinalAsync(db, ids));
    }

    private async Task<IReadOnlyList<string>> ReadFinalAsync(Patron.Data.PatronDb db, long[] ids)
    {
        var members = await db.Members.AsNoTracking().Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id);
        var rows = await db.PointEntries.AsNoTracking().Where(p => ids.Contains(p.MemberId)).OrderBy(p => p.AutoId).ToListAsync();
        var sales = await db.CardSales.AsNoTracking().Where(s => s.SaleNo.StartsWith(_ns)).ToListAsync();
        var cards = await db.MemberCards.AsNoTracking().Include(c => c.Entries).Where(c => ids.Contains(c.MemberId)).ToListAsync();
        var uses = await db.CardUses.AsNoTracking().Where(u => u.UseNo.StartsWith(_ns)).ToListAsync();

        var lines = new List<string>();
        for (var i = 0; i < ids.Length; i++)
        {
            var member = members[ids[i]];
            var own = rows.Where(r => r.MemberId == ids[i]).ToList();
            lines.Add($"m{i}: balance {member.Balance} lifetime {member.LifetimeEarned} level {member.LevelId}; {own.Count} rows");
            lines.AddRange(own.Select(r => Say.Row(i, r.BusiType, r.ChangeValue, r.BalanceBefore, r.BalanceAfter, r.LevelBefore, r.LevelAfter,
                r.IdempotencyKey is { } key ? key[_ns.Length..] : "adj")));
            if (own.Sum(r => r.ChangeValue) != member.Balance)
                lines.Add($"m{i}: the ledger sums to {own.Sum(r => r.ChangeValue)}, not to the balance");
        }
        string CardLine(Patron.Cards.MemberCard c) => Say.Card(Card(c.Id), Patron.Cards.CardViews.Status(c.Status), c.LockVersion, c.BeginTime, c.EndTime,
            c.Entries.OrderBy(e => e.CardProductId, StringComparer.Ordinal).Select(e => Say.Entry(Card(c.Id), e.CardProductId, e.HasUsedNum,
                e.LastCycle, e.LastCycleUsed, e.Posid ?? "", e.LockVersion, Patron.Cards.CardViews.Status(e.Status))));
        foreach (var sale in sales.OrderBy(s => s.SaleNo, StringComparer.Ordinal))
        {
            lines.Add($"{sale.SaleNo[_ns.Length..]}: st {sale.Status} refund {Say.Money(sale.RefundAmt)} num {sale.Num}");
            lines.AddRange(cards.Where(c => c.SaleId == sale.Id).Select(CardLine).Order(StringComparer.Ordinal));
        }
        lines.AddRange(cards.Where(c => sales.All(s => s.Id != c.SaleId)).Select(c => "a card of no sale of this run: " + CardLine(c)));
        var entries = cards.SelectMany(c => c.Entries).ToDictionary(e => e.Id, e => $"{Card(e.MemberCardId)}/{e.CardProductId}");
        lines.AddRange(uses.OrderBy(u => u.UseNo, StringComparer.Ordinal)
            .Select(u => Say.Use(u.UseNo[_ns.Length..], entries.GetValueOrDefault(u.UsageEntryId, "?"), u.Cycle, u.CancelledAt is not null)));
        return lines;
    }
}
