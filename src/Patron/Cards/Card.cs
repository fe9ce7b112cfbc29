namespace Patron.Cards;

/// <summary>A times-card ("名牛卡") that channels sell.</summary>
public sealed class Card
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public decimal Price { get; set; }
    public int ValidDays { get; set; }
    public bool OnSale { get; set; }

    /// <summary>How a partly used card is refunded: <see cref="RefundPolicies"/>.</summary>
    public string RefundPolicy { get; set; } = RefundPolicies.Full;
    public List<CardProduct> Products { get; set; } = [];
}

/// <summary>What a card entitles to: totalUsedNum uses in all, at most cycleNum per cycle of cycleDays days.</summary>
public sealed class CardProduct
{
    public required string CardId { get; set; }
    public required string Id { get; set; }
    public required string Name { get; set; }
    public int TotalUsedNum { get; set; }
    public int CycleDays { get; set; }
    public int CycleNum { get; set; }
}

/// <summary>The refund a partly used card allows.</summary>
public static class RefundPolicies
{
    /// <summary>Whatever was paid, used or not.</summary>
    public const string Full = "full";

    /// <summary>The payment times the uses left over the uses in all.</summary>
    public const string Prorated = "prorated";

    /// <summary>No refund once any use was made.</summary>
    public const string RefuseIfUsed = "refuseIfUsed";

    public static readonly string[] All = [Full, Prorated, RefuseIfUsed];
}
