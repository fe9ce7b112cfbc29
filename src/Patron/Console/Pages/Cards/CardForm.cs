using Patron.Cards;

namespace Patron.Console.Pages.Cards;

/// <summary>The card editor's fields: the card, and a few product rows of which empty ones are skipped.</summary>
public sealed class CardForm
{
    public const int Rows = 4;

    public bool IsNew { get; set; } = true;
    public string? Id { get; set; }
    public string? Name { get; set; }
    public decimal Price { get; set; }
    public int ValidDays { get; set; } = 30;
    public bool OnSale { get; set; } = true;
    public string Refund { get; set; } = RefundPolicies.Full;
    public List<ProductRow> Products { get; set; } = [];
    public string? Error { get; set; }

    public sealed class ProductRow
    {
        public string? Id { get; set; }
        public string? Name { get; set; }
        public int TotalUsedNum { get; set; } = 8;
        public int CycleDays { get; set; } = 7;
        public int CycleNum { get; set; } = 2;
    }

    /// <summary>A refund policy as the console names it (a key of the string resources).</summary>
    public static string PolicyLabel(string policy) => policy switch
    {
        RefundPolicies.Full => "Full refund",
        RefundPolicies.Prorated => "Prorated by uses left",
        RefundPolicies.RefuseIfUsed => "No refund once used",
        _ => policy,
    };

    public CardForm WithRows()
    {
        while (Products.Count < Rows)
            Products.Add(new ProductRow());
        return this;
    }

    public CardRequest ToRequest() => new(Id?.Trim() ?? "", Name ?? "", Price, ValidDays, OnSale,
        [.. Products.Where(p => !string.IsNullOrWhiteSpace(p.Id)).Select(p => new CardProductRequest(p.Id!.Trim(), p.Name ?? "", p.TotalUsedNum, p.CycleDays, p.CycleNum))],
        Refund);

    public static CardForm From(CardView c) => new CardForm
    {
        IsNew = false, Id = c.Id, Name = c.Name, Price = c.Price, ValidDays = c.ValidDays, OnSale = c.OnSale, Refund = c.Refund,
        Products = [.. c.Products.Select(p => new ProductRow { Id = p.Id, Name = p.Name, TotalUsedNum = p.TotalUsedNum, CycleDays = p.CycleDays, CycleNum = p.CycleNum })],
    }.WithRows();
}
