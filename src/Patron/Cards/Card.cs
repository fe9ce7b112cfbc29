namespace Patron.Cards;

/// <summary>A times-card ("名牛卡") that channels sell.</summary>
public sealed class Card
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public decimal Price { get; set; }
    public int ValidDays { get; set; }
    public bool OnSale { get; set; }
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
