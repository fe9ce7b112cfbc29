using System.Globalization;
using Patron.Cards;
using Patron.Points;
using Patron.Points.Lots;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Model;

/// <summary>What both sides record: every answer, by operation, and the state at the end.</summary>
public abstract class WriteState(World world)
{
    private readonly List<(Op Op, string Answer)> _log = [];

    public World World => world;

    public IReadOnlyList<(Op Op, string Answer)> Log
    {
        get { lock (_log) return [.. _log]; }
    }

    protected void Record(Op op, string answer)
    {
        lock (_log) _log.Add((op, answer));
    }

    /// <summary>Where the service and the model first differ, once compared: the answer's index, or null for the final state.</summary>
    public (int? Answer, string Text)? Mismatch { get; set; }

    public abstract IReadOnlyList<string> Final();
}

/// <summary>Answers and final lines in one wording, so that the two sides compare as text.</summary>
public static class Say
{
    public static string Error(int code) => $"error {code}";

    public static string Points(long before, long after, int levelBefore, int levelAfter, string row, string note) =>
        $"ok {before}->{after} L{levelBefore}->L{levelAfter} row {row} {note}";

    /// <summary>A ledger row's lifetime, pending and shortfall columns.</summary>
    public static string Columns(long earned, long pending, long shortfall) => $"e{earned} p{pending} s{shortfall}";

    /// <summary>An instant of the lifecycle's world as minutes from its run's start; nothing in the cards' world, whose clock runs on.</summary>
    public static string At(World world, DateTimeOffset instant) =>
        world.Start is { } start ? $"@{(long)(instant - start).TotalMinutes}" : "";

    public static string Since(World world, DateTimeOffset since) => world.Start is null ? "" : $" since {At(world, since)}";

    public static string Member(int member, long balance, long lifetime, int level, int rows, string since) =>
        $"m{member}: balance {balance} lifetime {lifetime} level {level}{since}; {rows} rows";

    public static string Lot(int member, int? channel, string type, string bill, long amount, long remaining, bool pending, string available, string expires) =>
        $"m{member} lot {(channel is { } c ? "c" + c : "op")} {type} {bill} {remaining}/{amount}{(pending ? " pending" : "")} from {available} until {expires}";

    public static string Entry(string card, string product, int used, int lastCycle, int lastCycleUsed, string? posid, int version, string status) =>
        $"{card}/{product} used {used} last {lastCycle}:{lastCycleUsed} pos {posid} v{version} st {status}";

    public static string Card(string card, string status, int version, long begin, long end, IEnumerable<string> entries) =>
        $"{card} st {status} v{version} {begin}..{end} [{string.Join("; ", entries)}]";

    public static string Money(decimal? amount) => amount?.ToString("0.00", CultureInfo.InvariantCulture) ?? "-";

    public static string Row(int member, string type, long change, long before, long after, int levelBefore, int levelAfter, string label,
        string columns, string at) =>
        $"m{member} row {type} {change} {before}->{after} L{levelBefore}->L{levelAfter} {columns} {label} {at}";

    public static string Use(string useNo, string entry, int cycle, bool cancelled) => $"{useNo}: {entry} cycle {cycle}{(cancelled ? " cancelled" : "")}";
}

/// <summary>
/// The reference: SPEC's rules applied one request at a time — the product's pure rules for a
/// change of points, the levels, the validity and a use — and the replay rules written here, since
/// they are what is under test: a repeated key, useNo or saleNo that succeeded gets its first
/// answer and writes nothing; with other content it is 1006 (2003 for a sale or a refund); a
/// failure is not remembered, so its repeat is judged afresh. A cancel or refund done once answers
/// its repeats as it answered first.
/// </summary>
public sealed partial class WriteModel(World world) : WriteState(world)
{
    /// <param name="answerAs">The first answer's cards as sold, with their kept status: a retry shows a refund and the clock.</param>
    private sealed class Sale(string hash, Func<int, string> answerAs, decimal payAmt, List<MemberCard> cards)
    {
        public string Hash => hash;
        public string Answer => answerAs(Status);
        public decimal PayAmt => payAmt;
        public List<MemberCard> Cards => cards;
        public int Status { get; set; } = CardStatus.Effective;
        public decimal? RefundAmt { get; set; }
        public string? RefundAnswer { get; set; }
    }

    private sealed record CardUse(string Hash, string Answer, UsageEntry Entry, int Cycle)
    {
        public bool Cancelled => CancelAnswer is not null;
        public string? CancelAnswer { get; set; }
    }

    private readonly SortedDictionary<string, Sale> _sales = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, CardUse> _uses = new(StringComparer.Ordinal);

    /// <summary>Successes repeated as they were; of those, how many the same request sent afresh would now fail.</summary>
    public (int Replays, int NowFailing) Replays { get; private set; }

    private void Replayed(bool nowFails) => Replays = (Replays.Replays + 1, Replays.NowFailing + (nowFails ? 1 : 0));

    public void Apply(Op op) => Record(op, op switch
    {
        SendPoints p => Points(Requests.Points(World, p)),
        Adjust a => Change(a.Member, a.BusiType, "ADJ", a.Change, "adj", channel: null),
        Advance a => Advanced(a.Hours),
        Settle => Settled(),
        SetLevel l => LevelSet(l.Member, l.Level),
        Sell s => Sell(Requests.Sale(World, s)),
        Use u => Use(Requests.Use(World, u)),
        Cancel c => Cancel($"u{c.Template}"),
        Refund f => Refund($"s{f.Template}", Requests.RefundAmt(f)),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    });

    private string Sell(SaleRequest r)
    {
        CardCalendar.TryParseLocal(r.SaleTime, ModelCatalog.Zone, out var saleTime);
        var now = TestWorld.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (CardTimes.TooFarAhead("saleTime", saleTime, now) is not null)
            return Say.Error(1004);
        if (_sales.TryGetValue(r.SaleNo, out var earlier))
        {
            if (earlier.Hash != r.Hash)
                return Say.Error(2003);
            Replayed(nowFails: false);
            return earlier.Answer;
        }
        if (CardTimes.TooOld("saleTime", saleTime, CardTimes.DefaultMaxAgeDays, now) is not null)
            return Say.Error(1004);
        if (r.Member >= ModelCatalog.Members)
            return Say.Error(2001);
        var card = ModelCatalog.Card(r.Card);
        if (!card.OnSale)
            return Say.Error(2002);
        var (begin, end) = CardCalendar.Validity(saleTime, card.ValidDays, ModelCatalog.Zone);
        var cards = Enumerable.Range(0, r.Num).Select(i => $"{r.SaleNo}.{i}").Select(label => new MemberCard
        {
            Id = label, CardInfoId = card.Id, MemberCode = $"m{r.Member}", BeginTime = begin, EndTime = end, TimeZone = ModelCatalog.Zone.Id,
            Entries = [.. card.Products.Select(p => new UsageEntry
            {
                Id = $"{label}/{p.Id}", MemberCardId = label, CardProductId = p.Id, CardProductName = p.Id,
                TotalUsedNum = p.Total, CycleDays = p.CycleDays, CycleNum = p.CycleNum, BeginTime = begin, EndTime = end,
            })],
        }).ToList();
        var payAmt = decimal.Parse(r.PayAmt, CultureInfo.InvariantCulture);
        var sold = cards.Select(c => AsKept(c, CardStatus.Effective)).ToList();
        string AnswerAs(int kept) => $"ok m{r.Member} pay {Say.Money(payAmt)} [{string.Join(" | ", sold.Select(c => CardText(AsKept(c, kept))))}]";
        var sale = _sales[r.SaleNo] = new Sale(r.Hash, AnswerAs, payAmt, cards);
        return sale.Answer;
    }

    private string Use(UseRequest r)
    {
        CardCalendar.TryParseLocal(r.UseTime, ModelCatalog.Zone, out var t);
        var now = TestWorld.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (CardTimes.TooFarAhead("useTime", t, now) is not null)
            return Say.Error(1004);
        var card = _sales.TryGetValue($"s{r.Sale}", out var sale) && r.CardIndex < sale.Cards.Count ? sale.Cards[r.CardIndex] : null;
        var hash = $"{card?.Id ?? "none"}|{r.Product}|{r.Posid}|{r.UseTime}";
        var entry = card?.Entries.SingleOrDefault(e => e.CardProductId == r.Product);
        if (_uses.TryGetValue(r.UseNo, out var earlier))
        {
            if (earlier.Hash != hash)
                return Say.Error(1006);
            Replayed(CardRules.Use(card!, entry!, Cycles(entry!), t).Failure is not null);
            return earlier.Answer;
        }
        if (CardTimes.TooOld("useTime", t, CardTimes.DefaultMaxAgeDays, now) is not null)
            return Say.Error(1004);
        if (card is null || entry is null)
            return Say.Error(2101);
        var cycles = Cycles(entry);
        var decided = CardRules.Use(card, entry, cycles, t);
        if (decided.Failure is { } refused)
            return Say.Error((int)refused.Code);
        cycles.Add(decided.Value);
        Summarize(entry, cycles);
        entry.Posid = r.Posid;
        var answer = "ok " + EntryText(entry);
        _uses[r.UseNo] = new CardUse(hash, answer, entry, decided.Value);
        return answer;
    }

    private string Cancel(string useNo)
    {
        if (!_uses.TryGetValue(useNo, out var use))
            return Say.Error(2101);
        if (use.CancelAnswer is { } first)
            return first;
        use.CancelAnswer = ""; // cancelled before the recount, which counts the uncancelled uses
        Summarize(use.Entry, Cycles(use.Entry));
        return use.CancelAnswer = "ok " + EntryText(use.Entry);
    }

    private string Refund(string saleNo, decimal? refundAmt)
    {
        if (!_sales.TryGetValue(saleNo, out var sale))
            return Say.Error(2101);
        if (refundAmt > sale.PayAmt)
            return Say.Error(1004);
        // A refund keeps its answer: the same amount again gets it, another amount is 2003.
        if (sale.RefundAnswer is { } first)
            return (refundAmt ?? sale.PayAmt) == sale.RefundAmt ? first : Say.Error(2003);
        (sale.Status, sale.RefundAmt) = (CardStatus.Void, refundAmt ?? sale.PayAmt);
        foreach (var card in sale.Cards)
        {
            (card.Status, card.LockVersion) = (CardStatus.Void, card.LockVersion + 1);
            foreach (var entry in card.Entries)
                (entry.Status, entry.LockVersion) = (CardStatus.Void, entry.LockVersion + 1);
        }
        return sale.RefundAnswer = $"ok st {sale.Status} refund {Say.Money(sale.RefundAmt)} [{string.Join(" | ", sale.Cards.Select(CardText))}]";
    }

    private List<int> Cycles(UsageEntry entry) => [.. _uses.Values.Where(u => u.Entry == entry && !u.Cancelled).Select(u => u.Cycle)];

    /// <summary>A use or a cancel: the counters are the summary of the uncancelled uses, and the version moves.</summary>
    private static void Summarize(UsageEntry entry, List<int> cycles)
    {
        var summary = UsageSummary.Of(cycles);
        (entry.HasUsedNum, entry.LastCycle, entry.LastCycleUsed) = (summary.HasUsedNum, summary.LastCycle, summary.LastCycleUsed);
        entry.LockVersion++;
    }

    /// <summary>Answers carry the status as of now (the model's cards are long past their endTime); the model voids an entry with its card.</summary>
    public static string EntryText(UsageEntry e) => EntryText(e, CardRules.Status(e.Status, e.EndTime, CardRules.UsedUp(e.HasUsedNum, e.TotalUsedNum), Now()));

    /// <summary>A copy of a card as it stands, with the status the sale keeps (refunded or not) on it and its entries.</summary>
    private static MemberCard AsKept(MemberCard c, int status) => new()
    {
        Id = c.Id, CardInfoId = c.CardInfoId, MemberCode = c.MemberCode, BeginTime = c.BeginTime, EndTime = c.EndTime, TimeZone = c.TimeZone,
        LockVersion = c.LockVersion, Status = status,
        Entries = [.. c.Entries.Select(e => new UsageEntry
        {
            Id = e.Id, MemberCardId = e.MemberCardId, CardProductId = e.CardProductId, CardProductName = e.CardProductName,
            TotalUsedNum = e.TotalUsedNum, CycleDays = e.CycleDays, CycleNum = e.CycleNum, HasUsedNum = e.HasUsedNum, LastCycle = e.LastCycle,
            LastCycleUsed = e.LastCycleUsed, Posid = e.Posid, LockVersion = e.LockVersion, Status = status, BeginTime = e.BeginTime, EndTime = e.EndTime,
        })],
    };

    private static string CardText(MemberCard c) =>
        Say.Card(c.Id, CardViews.Status(CardRules.Status(c, Now())), c.LockVersion, c.BeginTime, c.EndTime, c.Entries.Select(e => EntryText(e)));

    /// <summary>A card as its row stores it: refunded or not; the clock's part of the status is never stored.</summary>
    private static string StoredCardText(MemberCard c) =>
        Say.Card(c.Id, CardViews.Status(c.Status), c.LockVersion, c.BeginTime, c.EndTime, c.Entries.Select(e => EntryText(e, e.Status)));

    private static string EntryText(UsageEntry e, int status) =>
        Say.Entry(e.MemberCardId, e.CardProductId, e.HasUsedNum, e.LastCycle, e.LastCycleUsed, e.Posid ?? "", e.LockVersion, CardViews.Status(status));

    private static long Now() => TestWorld.Clock.GetUtcNow().ToUnixTimeMilliseconds();

    public override IReadOnlyList<string> Final()
    {
        var lines = PointsFinal();
        foreach (var (saleNo, sale) in _sales)
        {
            lines.Add($"{saleNo}: st {sale.Status} refund {Say.Money(sale.RefundAmt)} num {sale.Cards.Count}");
            lines.AddRange(sale.Cards.Select(StoredCardText));
        }
        lines.AddRange(_uses.Select(u => Say.Use(u.Key, u.Value.Entry.Id, u.Value.Cycle, u.Value.Cancelled)));
        return lines;
    }
}
