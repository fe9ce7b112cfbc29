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
        var query = db.MemberCards.AsNoTracking().Include(c => c.Entries).Where(c => c.MemberId == memberId);
        if (soldBy is { } channelId)
            query = query.Where(c => db.CardSales.Any(s => s.Id == c.SaleId && s.ChannelId == channelId));
        var cards = await query.OrderByDescending(c => c.CreateTime).ThenBy(c => c.Id).ToListAsync(ct);
        return await ViewsAsync(db, cards, now, ct);
    }

    public static async Task<List<MemberCardView>> ViewsAsync(PatronDb db, List<MemberCard> cards, DateTimeOffset now, CancellationToken ct)
    {
        var saleIds = cards.Select(c => c.SaleId).Distinct().ToList();
        var sales = await db.CardSales.AsNoTracking().Where(s => saleIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);
        var cardIds = cards.Select(c => c.CardInfoId).Distinct().ToList();
        var names = await db.Cards.AsNoTracking().Where(c => cardIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, ct);
        return [.. cards.Select(c => c.ToView(sales[c.SaleId], names.GetValueOrDefault(c.CardInfoId, c.CardInfoId), now.ToUnixTimeMilliseconds()))];
    }
}
