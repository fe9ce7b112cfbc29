using System.Data.Common;

namespace Patron.Cards;

/// <summary>How both dialects' sale stores read a card with its products.</summary>
public static class CardSaleRows
{
    /// <summary>Of cards c and card_products p, one row a product (p's columns null for a card without any).</summary>
    public const string CardColumns = "c.id, c.name, c.price, c.valid_days, c.on_sale, p.id, p.name, p.total_used_num, p.cycle_days, p.cycle_num";

    /// <summary>Adds the row's card to <paramref name="cards"/> if new, and its product to the card.</summary>
    public static void ReadCard(DbDataReader r, Dictionary<string, Card> cards)
    {
        var id = r.GetString(0);
        if (!cards.TryGetValue(id, out var card))
            cards[id] = card = new Card { Id = id, Name = r.GetString(1), Price = r.GetDecimal(2), ValidDays = r.GetInt32(3), OnSale = r.GetBoolean(4) };
        if (!r.IsDBNull(5))
            card.Products.Add(new CardProduct
            {
                CardId = id, Id = r.GetString(5), Name = r.GetString(6), TotalUsedNum = r.GetInt32(7), CycleDays = r.GetInt32(8), CycleNum = r.GetInt32(9),
            });
    }
}
