using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Cards;

public static class CardQueries
{
    /// <summary>A member's cards, newest first, each with its usage entries and its sale's fields, and its status as of <paramref name="now"/>.</summary>
    /// <param name="soldBy">Only the cards this channel sold (the open API); null for all (operators).</param>
    public static async Task<List<MemberCardView>> MemberCardsAsync(PatronDb db, long memberId, DateTimeOffset now, CancellationToken ct,
        int? soldBy = null)
    {
        var at = now.ToUnixTimeMilliseconds();
        var views = new List<MemberCardView>();
        CardRow? card = null;
        var rows = db is PostgresPatronDb ? PostgresCardList.ReadAsync(db, memberId, soldBy, ct) : CardsOf.For(db)(db, memberId, soldBy);
        await foreach (var row in rows.WithCancellation(ct))
        {
            // A row per entry, a card's rows together: its first row's card collects the entries.
            if (card is null || card.Card.Id != row.Card.Id)
            {
                if (card is not null)
                    views.Add(card.Card.ToView(card.Sale, card.CardName ?? card.Card.CardInfoId, at));
                card = row;
            }
            if (row.Entry is { } entry)
                card.Card.Entries.Add(entry);
        }
        if (card is not null)
            views.Add(card.Card.ToView(card.Sale, card.CardName ?? card.Card.CardInfoId, at));
        return views;
    }

    internal sealed record CardRow(MemberCard Card, UsageEntry? Entry, SaleOfCard Sale, string? CardName);

    /// <summary>
    /// A member's cards, their entries, their sales' fields and their cards' names in one round trip:
    /// the open API's queryMncardByMember runs it every call. Flat rows rather than an Include, whose
    /// shaper costs twice the allocations; the sale's fields rather than the sale, whose kept answer
    /// lists every card of the sale and would be repeated on each card's row. On SQLite: PostgreSQL
    /// reads the same rows through <see cref="PostgresCardList"/>.
    /// </summary>
    private static readonly CompiledQuery<Func<PatronDb, long, int?, IAsyncEnumerable<CardRow>>> CardsOf =
        new(() => EF.CompileAsyncQuery((PatronDb db, long memberId, int? soldBy) => db.MemberCards.AsNoTracking()
            .Where(c => c.MemberId == memberId)
            .Join(db.CardSales.Where(s => soldBy == null || s.ChannelId == soldBy), c => c.SaleId, s => s.Id,
                (c, s) => new { Card = c, Sale = new SaleOfCard(s.ChannelName, s.SaleNo, s.PayAmt, s.SaleTime, s.SaleUser, s.SaleOrgCode) })
            .SelectMany(x => db.UsageEntries.Where(e => e.MemberCardId == x.Card.Id).DefaultIfEmpty(), (x, e) => new { x.Card, x.Sale, Entry = e })
            .OrderByDescending(x => x.Card.CreateTime).ThenBy(x => x.Card.Id)
            .Select(x => new CardRow(x.Card, x.Entry, x.Sale, db.Cards.Where(k => k.Id == x.Card.CardInfoId).Select(k => k.Name).FirstOrDefault()))));

    public static async Task<List<MemberCardView>> ViewsAsync(PatronDb db, List<MemberCard> cards, DateTimeOffset now, CancellationToken ct)
    {
        var saleIds = cards.Select(c => c.SaleId).Distinct().ToList();
        var sales = await db.CardSales.AsNoTracking().Where(s => saleIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);
        var cardIds = cards.Select(c => c.CardInfoId).Distinct().ToList();
        var names = await db.Cards.AsNoTracking().Where(c => cardIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, ct);
        return [.. cards.Select(c => c.ToView(sales[c.SaleId], names.GetValueOrDefault(c.CardInfoId, c.CardInfoId), now.ToUnixTimeMilliseconds()))];
    }
}
