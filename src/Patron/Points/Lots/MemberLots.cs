namespace Patron.Points.Lots;

/// <summary>
/// One member's live lots while a batch is decided, and the arithmetic on them: what a spend, a
/// reversal, a clearing, an expiry or an activation takes from which lot. Every lot it changes or
/// creates is reported to <paramref name="touched"/>, so the store writes exactly those.
/// </summary>
public sealed class MemberLots(IEnumerable<PointLot> lots, Action<PointLot> touched)
{
    private readonly List<PointLot> _lots = [.. lots];

    public IReadOnlyList<PointLot> All => _lots;

    public void Add(PointLot lot)
    {
        _lots.Add(lot);
        touched(lot);
    }

    /// <summary>Available lots in the order they are spent: soonest to expire first, never-expiring last, then oldest.</summary>
    private IEnumerable<PointLot> SpendOrder(Func<PointLot, bool> which) =>
        _lots.Where(l => l.Remaining > 0 && which(l)).OrderBy(l => l.ExpiresAt ?? DateTimeOffset.MaxValue).ThenBy(l => l.AvailableAt);

    /// <summary>Takes up to <paramref name="amount"/> from available lots, soonest to expire first; returns what it took.</summary>
    public long Spend(long amount) => Take(SpendOrder(l => !l.Pending), amount);

    /// <summary>
    /// A reversal of <paramref name="amount"/> for a bill: first it cancels what the bill's pending lots
    /// still hold, then takes from the bill's available lots (so capped by what the bill earned and has
    /// left), then from any available lot, soonest to expire first.
    /// </summary>
    public (long Cancelled, long Taken) Reverse(int? channelId, string busiBillNum, long amount)
    {
        bool OfBill(PointLot l) => l.ChannelId == channelId && l.BusiBillNum == busiBillNum && l.BusiType != "O";
        var cancelled = Take(SpendOrder(l => l.Pending && OfBill(l)), amount);
        var taken = Take(SpendOrder(l => !l.Pending && OfBill(l)), amount - cancelled);
        taken += Take(SpendOrder(l => !l.Pending), amount - cancelled - taken);
        return (cancelled, taken);
    }

    /// <summary>Clears every lot (Z): returns what was available and what was pending.</summary>
    public (long Available, long Pending) Clear()
    {
        var pending = Take(SpendOrder(l => l.Pending), long.MaxValue);
        var available = Take(SpendOrder(l => !l.Pending), long.MaxValue);
        return (available, pending);
    }

    /// <summary>Expires what remains of every available lot due at <paramref name="now"/>; returns how much.</summary>
    public long Expire(DateTimeOffset now) => Take(SpendOrder(l => !l.Pending && l.ExpiresAt <= now), long.MaxValue);

    /// <summary>Pending lots whose time has come, in the order they became due; the caller activates each.</summary>
    public List<PointLot> DueToActivate(DateTimeOffset now) =>
        [.. _lots.Where(l => l.Pending && l.Remaining > 0 && l.AvailableAt <= now).OrderBy(l => l.AvailableAt)];

    public void Activate(PointLot lot)
    {
        lot.Pending = false;
        touched(lot);
    }

    private long Take(IEnumerable<PointLot> order, long amount)
    {
        var taken = 0L;
        foreach (var lot in order.ToList())
        {
            if (taken == amount)
                break;
            var take = Math.Min(lot.Remaining, amount - taken);
            lot.Remaining -= take;
            taken += take;
            touched(lot);
        }
        return taken;
    }
}
