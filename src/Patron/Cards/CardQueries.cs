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
        var rows = new List<CardRow>();
        await foreach (var row in CardsOf.For(db)(db, memberId, soldBy).WithCancellation(ct))
            rows.Add(row);
        if (rows.Count == 0)
            return [];
        var byId = rows.ToDictionary(r => r.Card.Id, r => r.Card, StringComparer.Ordinal);
        // In a statement of their own: joined to the cards, the plan followed the statistics, and right
        // after a burst of sales PostgreSQL hashed the whole entries table at every call.
        foreach (var entry in await db.CardEntriesAsync([.. byId.Keys], ct))
            byId[entry.MemberCardId].Entries.Add(entry);
        var at = now.ToUnixTimeMilliseconds();
        return [.. rows.Select(r => r.Card.ToView(r.Sale, r.CardName ?? r.Card.CardInfoId, at))];
    }

    private sealed record CardRow(MemberCard Card, SaleOfCard Sale, string? CardName);

    /// <summary>
    /// A member's cards, their sales' fields and their cards' names: the open API's
    /// queryMncardByMember runs it every call. The sale's fields rather than the sale, whose kept
    /// answer lists every card of the sale.
    /// </summary>
    private static readonly CompiledQuery<Func<PatronDb, long, int?, IAsyncEnumerable<CardRow>>> CardsOf =
        new(() => EF.CompileAsyncQuery((PatronDb db, long memberId, int? soldBy) => db.MemberCards.AsNoTracking()
            .Where(c => c.MemberId == memberId)
            .Join(db.CardSales.Where(s => soldBy == null || s.ChannelId == soldBy), c => c.SaleId, s => s.Id,
                (c, s) => new { Card = c, Sale = new SaleOfCard(s.ChannelName, s.SaleNo, s.PayAmt, s.SaleTime, s.SaleUser, s.SaleOrgCode) })
            .OrderByDescending(x => x.Card.CreateTime).ThenBy(x => x.Card.Id)
            .Select(x => new CardRow(x.Card, x.Sale, db.Cards.Where(k => k.Id == x.Card.CardInfoId).Select(k => k.Name).FirstOrDefault()))));

    public static async Task<List<MemberCardView>> ViewsAsync(PatronDb db, List<MemberCard> cards, DateTimeOffset now, CancellationToken ct)
    {
        var saleIds = cards.Select(c => c.SaleId).Distinct().ToList();
        var sales = await db.CardSales.AsNoTracking().Where(s => saleIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);
        var cardIds = cards.Select(c => c.CardInfoId).Distinct().ToList();
        var names = await db.Cards.AsNoTracking().Where(c => cardIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, ct);
        return [.. cards.Select(c => c.ToView(sales[c.SaleId], names.GetValueOrDefault(c.CardInfoId, c.CardInfoId), now.ToUnixTimeMilliseconds()))];
    }
}
