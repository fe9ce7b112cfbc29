using Patron.Compat;
using Patron.Points;
using Patron.Points.Lots;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Model;

/// <summary>
/// The model's points: each member's state, lots and ledger, decided by the product's pure rules
/// (<see cref="PointRules.Apply"/>, <see cref="Settlement.Settle"/>) on the model's own lots, at
/// the model's own clock. What is under test is everything around the rules: storage, batching,
/// concurrency, replays, and which members the settling job finds due.
/// </summary>
public sealed partial class WriteModel
{
    private sealed record LedgerLine(int Member, string Type, long Change, long Before, long After, int LevelBefore, int LevelAfter,
        long Earned, long Pending, long Shortfall, DateTimeOffset At, string Label);

    private readonly PointsState[] _members =
        [.. Enumerable.Repeat(new PointsState(0, 0, ModelCatalog.Levels.LevelFor(0), world.Start ?? default), ModelCatalog.Members)];

    private readonly List<PointLot>[] _lots = [.. Enumerable.Range(0, ModelCatalog.Members).Select(_ => new List<PointLot>())];
    private readonly List<LedgerLine> _ledger = [];
    private readonly Dictionary<string, (string Hash, string Answer)> _keys = [];
    private TimeSpan _advanced;

    private PointsPolicy Policy => World.Start is null ? ModelCatalog.Policy : LotCatalog.Policy;

    /// <summary>The lifecycle's world runs on its own clock; the cards' world on the test world's.</summary>
    private DateTimeOffset PointsNow => World.Start is { } start ? start + _advanced : TestWorld.Clock.GetUtcNow();

    private LotTerms? Terms(int? channel) => World.Start is null ? null : LotCatalog.Of(channel);

    private string Points(PointsRequest r)
    {
        if (PointRules.Validate(r.BusiType, r.Bill, r.Change) is { } invalid)
            return Say.Error((int)invalid.Code);
        if (_keys.TryGetValue(r.Key, out var first))
        {
            if (first.Hash != r.Hash)
                return Say.Error(1006);
            Replayed(r.Member < ModelCatalog.Members && Decide(r.Member, r.BusiType, r.Bill, r.Change, r.Channel, dryRun: true).Failure is not null);
            return first.Answer;
        }
        var answer = Change(r.Member, r.BusiType, r.Bill, r.Change, r.Key, r.Channel);
        if (answer.StartsWith("ok", StringComparison.Ordinal))
            _keys[r.Key] = (r.Hash, answer);
        return answer;
    }

    /// <summary>A partner's change (channel 0 or 1) answers with the envelope's errmsg; an operator's (null) with the row's own columns.</summary>
    private string Change(int member, string type, string bill, long change, string label, int? channel)
    {
        if (PointRules.Validate(type, bill, change) is { } invalid)
            return Say.Error((int)invalid.Code);
        if (member >= ModelCatalog.Members)
            return Say.Error(2001);
        var before = _members[member];
        var applied = Decide(member, type, bill, change, channel, dryRun: false);
        if (applied.Failure is { } failure)
            return Say.Error((int)failure.Code);
        var a = applied.Value;
        var after = _members[member] = a.After;
        _ledger.Add(new LedgerLine(member, type, a.Change, before.Balance, after.Balance, before.LevelId, after.LevelId, a.Earned, a.PendingValue,
            a.Shortfall, PointsNow, label));
        var note = new PointEntry { BusiType = type, BusiBillNum = bill, Actor = "", BalanceBefore = before.Balance, PendingValue = a.PendingValue,
            Shortfall = a.Shortfall }.Note();
        return Say.Points(before.Balance, after.Balance, before.LevelId, after.LevelId, label,
            channel is null ? Say.Columns(a.Earned, a.PendingValue, a.Shortfall) : note is null ? PointsEnvelope.Success : $"{PointsEnvelope.Success}: {note}");
    }

    /// <summary>The product's rule for one change, on the model's own lots; a dry run decides on copies of them.</summary>
    private Outcome<Applied> Decide(int member, string type, string bill, long change, int? channel, bool dryRun)
    {
        var lots = dryRun ? _lots[member].Select(Copy).ToList() : _lots[member];
        var rules = new MemberLots(lots, lot => { if (!lots.Contains(lot)) lots.Add(lot); });
        return PointRules.Apply(_members[member], rules, new PointChange(member, type, bill, change, channel, "model", null, Terms(channel)),
            Policy, PointsNow);
    }

    private static PointLot Copy(PointLot l) => new()
    {
        BusiType = l.BusiType, BusiBillNum = l.BusiBillNum, ChannelId = l.ChannelId, Amount = l.Amount, Remaining = l.Remaining, Pending = l.Pending,
        EarnedAt = l.EarnedAt, AvailableAt = l.AvailableAt, ExpiresAt = l.ExpiresAt,
    };

    /// <summary>What the run's ledger reached, for the test's summary: the settling job's rows, pending earnings, shortfalls.</summary>
    public IEnumerable<(string Kind, int Count)> RowKinds() =>
        _ledger.Select(r => r.Type is "A" or "X" or "L" ? $"ledger rows {r.Type}" : r.Pending > 0 ? "ledger rows pending"
                : r.Pending < 0 ? "ledger rows cancelling pending" : r.Shortfall > 0 ? "ledger rows with a shortfall" : null)
            .OfType<string>().GroupBy(k => k).Select(g => (g.Key, g.Count()));

    private string Advanced(int hours)
    {
        _advanced += TimeSpan.FromHours(hours);
        return $"ok +{hours} h";
    }

    /// <summary>
    /// The settling job as SPEC has it: whatever is due now is settled, for every member. The
    /// review's earnings are summed here from the model's own ledger, over the window the rule names.
    /// </summary>
    private string Settled()
    {
        var now = PointsNow;
        for (var m = 0; m < ModelCatalog.Members; m++)
        {
            var before = _members[m];
            long? earned = null;
            if (Policy.ReviewMonths is { } months && LevelReview.DueAt(before.LevelSince, now, months, Policy.Zone) is { } due)
            {
                var since = LevelReview.WindowStart(due, months, Policy.Zone);
                earned = _ledger.Where(r => r.Member == m && r.At >= since && r.At < due).Sum(r => r.Earned);
            }
            var rows = new List<PointEntry>();
            var lots = _lots[m];
            _members[m] = Settlement.Settle(m, before, new MemberLots(lots, _ => { }), earned, Policy, now, rows, []);
            _ledger.AddRange(rows.Select(r => new LedgerLine(m, r.BusiType, r.ChangeValue, r.BalanceBefore, r.BalanceAfter, r.LevelBefore, r.LevelAfter,
                r.Earned, r.PendingValue, r.Shortfall, now, r.BusiBillNum)));
        }
        return "ok settled";
    }

    /// <summary>Level/Set: the level and the anniversary its review counts from, no ledger row.</summary>
    private string LevelSet(int member, int level)
    {
        if (member >= ModelCatalog.Members)
            return Say.Error(2001);
        var before = _members[member];
        if (before.LevelId == level)
            return "ok 0 of 1 member(s) set to level " + level;
        _members[member] = before with { LevelId = (byte)level, LevelSince = PointsNow };
        return "ok 1 of 1 member(s) set to level " + level;
    }

    /// <summary>Each member, their ledger, and in the lifecycle's world their lots and anniversary, times as minutes from the run's start.</summary>
    private List<string> PointsFinal()
    {
        var lines = new List<string>();
        for (var m = 0; m < ModelCatalog.Members; m++)
        {
            var s = _members[m];
            var rows = _ledger.Where(r => r.Member == m).ToList();
            lines.Add(Say.Member(m, s.Balance, s.LifetimeEarned, s.LevelId, rows.Count, Say.Since(World, s.LevelSince)));
            lines.AddRange(rows.Select(r => Say.Row(m, r.Type, r.Change, r.Before, r.After, r.LevelBefore, r.LevelAfter, r.Label,
                Say.Columns(r.Earned, r.Pending, r.Shortfall), Say.At(World, r.At))));
            if (World.Start is not null)
                lines.AddRange(_lots[m].Select(l => Say.Lot(m, l.ChannelId, l.BusiType, l.BusiBillNum, l.Amount, l.Remaining, l.Pending,
                    Say.At(World, l.AvailableAt), l.ExpiresAt is { } e ? Say.At(World, e) : "never")));
        }
        return lines;
    }
}
