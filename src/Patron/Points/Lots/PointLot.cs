namespace Patron.Points.Lots;

/// <summary>
/// Points earned by one positive change (P, S, R, C, or an opening balance), and what is left of
/// them. A member's balance is the sum of the remaining points of their available lots; a pending
/// lot counts only once the settling job has made it available.
/// </summary>
public sealed class PointLot
{
    public long Id { get; set; }
    public long MemberId { get; set; }

    /// <summary>The channel that earned it; null for an operator's change or an opening balance.</summary>
    public int? ChannelId { get; set; }

    public required string BusiType { get; set; }

    /// <summary>The earning's bill: a reversal of the same bill from the same channel takes from this lot first.</summary>
    public required string BusiBillNum { get; set; }

    public long Amount { get; set; }
    public long Remaining { get; set; }

    /// <summary>Not yet in the balance: waits for <see cref="AvailableAt"/> and the settling job's ledger row A.</summary>
    public bool Pending { get; set; }

    public DateTimeOffset EarnedAt { get; set; }
    public DateTimeOffset AvailableAt { get; set; }

    /// <summary>When what remains expires; null, never.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
}
