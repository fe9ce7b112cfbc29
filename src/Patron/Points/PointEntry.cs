namespace Patron.Points;

/// <summary>One row of the append-only points ledger.</summary>
public sealed class PointEntry
{
    public long AutoId { get; set; }
    public long MemberId { get; set; }
    public required string BusiType { get; set; }
    public required string BusiBillNum { get; set; }
    public long ChangeValue { get; set; }
    public long BalanceBefore { get; set; }
    public long BalanceAfter { get; set; }
    public byte LevelBefore { get; set; }
    public byte LevelAfter { get; set; }

    /// <summary>The channel that asked for the change; null for an operator's adjustment.</summary>
    public int? ChannelId { get; set; }

    /// <summary>Who made the change: a channel name or an operator.</summary>
    public required string Actor { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public string? IdempotencyKey { get; set; }

    /// <summary>SHA-256 of the canonical request, to tell a replay from a reused key.</summary>
    public string? RequestHash { get; set; }

    /// <summary>How this row changed the member's lifetime earned points: their sum over the ledger.</summary>
    public long Earned { get; set; }

    /// <summary>How this row changed the member's pending points: plus a pending earning, minus its activation or reversal.</summary>
    public long PendingValue { get; set; }

    /// <summary>What a reversal could not take because the balance had already been spent: never silently lost.</summary>
    public long Shortfall { get; set; }
}
