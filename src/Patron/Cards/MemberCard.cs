namespace Patron.Cards;

public static class CardStatus
{
    public const int Effective = 1;
    public const int Void = 2;
}

/// <summary>One sale of <c>num</c> cards to a member through a channel; <c>saleNo</c> is unique per channel.</summary>
public sealed class CardSale
{
    public long Id { get; set; }
    public int ChannelId { get; set; }
    public required string ChannelName { get; set; }
    public required string SaleNo { get; set; }
    public required string CardInfoId { get; set; }
    public long MemberId { get; set; }
    public required string MemberCode { get; set; }
    public int Num { get; set; }
    public decimal PayAmt { get; set; }

    /// <summary>Epoch milliseconds, as the open API speaks; the business time zone applies only at the edges.</summary>
    public long SaleTime { get; set; }

    public string? SaleUser { get; set; }
    public string? SaleOrgCode { get; set; }
    public long CreateTime { get; set; }
    public int Status { get; set; } = CardStatus.Effective;
    public decimal? RefundAmt { get; set; }
    public long? RefundTime { get; set; }

    /// <summary>The refund's answer, given again to a refund of the same sale; null until it is refunded.</summary>
    public string? RefundResultJson { get; set; }

    /// <summary>SHA-256 of the canonical sale request: a repeat with other content is refused.</summary>
    public required string RequestHash { get; set; }

    /// <summary>
    /// What the first answer is given again from, to a partner that retries (<see cref="CardSaleDecider.Replay"/>):
    /// its cards, a JSON array; or the whole answer, a JSON object, the form older rows hold.
    /// </summary>
    public required string ResultJson { get; set; }
}

/// <summary>A card issued to a member; its id is the unguessable 13-character code printed on it.</summary>
public sealed class MemberCard
{
    public required string Id { get; set; }
    public long SaleId { get; set; }
    public required string CardInfoId { get; set; }
    public long MemberId { get; set; }
    public required string MemberCode { get; set; }
    public int Status { get; set; } = CardStatus.Effective;
    public long BeginTime { get; set; }
    public long EndTime { get; set; }
    public long CreateTime { get; set; }

    /// <summary>The business zone in force when the card was sold: its days and cycles stay on that calendar.</summary>
    public required string TimeZone { get; set; }

    public int LockVersion { get; set; }
    public List<UsageEntry> Entries { get; set; } = [];
}

/// <summary>
/// A member card's allowance of one card product (the seed's memberUsedList entry). The counts
/// are a summary of the uncancelled uses; LockVersion guards every change to them.
/// </summary>
public sealed class UsageEntry
{
    public required string Id { get; set; }
    public required string MemberCardId { get; set; }
    public required string CardProductId { get; set; }
    public required string CardProductName { get; set; }
    public int TotalUsedNum { get; set; }
    public int CycleDays { get; set; }
    public int CycleNum { get; set; }
    public int HasUsedNum { get; set; }
    public int LastCycle { get; set; }
    public int LastCycleUsed { get; set; }
    public string? Posid { get; set; }
    public int LockVersion { get; set; }
    public int Status { get; set; } = CardStatus.Effective;
    public long BeginTime { get; set; }
    public long EndTime { get; set; }
    public long CreateTime { get; set; }
}

/// <summary>One use of an entry, by the caller's useNo (unique per channel); cancelling marks it.</summary>
public sealed class CardUse
{
    public long Id { get; set; }
    public int ChannelId { get; set; }
    public required string UseNo { get; set; }
    public required string UsageEntryId { get; set; }
    public required string MemberCardId { get; set; }
    public required string Posid { get; set; }
    public long UseTime { get; set; }
    public int Cycle { get; set; }
    public long CreatedAt { get; set; }
    public long? CancelledAt { get; set; }
    public required string RequestHash { get; set; }
    public required string ResultJson { get; set; }

    /// <summary>The cancel's answer, given again to a cancel of the same use; null for a use never cancelled.</summary>
    public string? CancelResultJson { get; set; }
}

/// <summary>Append-only: a row per use, per cancel and per refund of an entry.</summary>
public sealed class CardUseLog
{
    public long Id { get; set; }
    public required string UsageEntryId { get; set; }
    public required string Kind { get; set; }
    public string? UseNo { get; set; }
    public string? Posid { get; set; }
    public int ChannelId { get; set; }
    public long At { get; set; }
    public int HasUsedNumAfter { get; set; }
}
