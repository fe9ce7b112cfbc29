using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Patron.Cards;
using Patron.Data;

namespace Patron.Console.Pages.Members;

/// <summary>What staff do to the member's cards from this page, through the same handlers as /api/v1.</summary>
public sealed partial class MemberDetailModel
{
    /// <summary>A use of one of the member's cards, as the page lists it.</summary>
    public sealed record UseLine(string UseNo, string Channel, string MemberCardId, string Product, string Posid, long UseTime, bool Cancelled);

    public const int UsesShown = 50;

    /// <summary>Each sale's refund as its policy allows it now, by (channel, saleNo): what the refund form proposes.</summary>
    public Dictionary<(string Channel, string SaleNo), RefundQuote> Quotes { get; private set; } = [];

    public List<UseLine> Uses { get; private set; } = [];

    /// <summary>
    /// Staff may act on a card until its sale is refunded: an expired card reads "2" but may still be
    /// extended (that is what extending is for) or refunded.
    /// </summary>
    public bool CanAct(MemberCardView card) =>
        Quotes.TryGetValue((card.SaleChannel, card.SaleNo), out var quote) && quote.Status == CardViews.Status(CardStatus.Effective);

    private async Task LoadCardActionsAsync(CancellationToken ct)
    {
        var saleNos = Cards.Select(c => c.SaleNo).Distinct().ToList();
        var sales = await db.CardSales.AsNoTracking().Where(s => s.MemberId == Member.Id && saleNos.Contains(s.SaleNo)).ToListAsync(ct);
        Quotes = (await CardActionsApi.QuotesAsync(db, sales, ct)).Values.ToDictionary(q => (q.Channel, q.SaleNo));
        var cardIds = Cards.Select(c => c.Id).ToList();
        var products = Cards.SelectMany(c => c.MemberUsedList).ToDictionary(e => e.Id, e => e.CardProductName);
        var channels = await db.Channels.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, ct);
        var uses = await db.CardUses.AsNoTracking().Where(u => cardIds.Contains(u.MemberCardId)).OrderByDescending(u => u.Id).Take(UsesShown).ToListAsync(ct);
        Uses = [.. uses.Select(u => new UseLine(u.UseNo, channels.GetValueOrDefault(u.ChannelId, "?"), u.MemberCardId,
            products.GetValueOrDefault(u.UsageEntryId, u.UsageEntryId), u.Posid, u.UseTime, u.CancelledAt is not null))];
    }

    public async Task<IActionResult> OnPostRefundAsync(long id, string saleNo, string? channel, string? refundAmt, CancellationToken ct)
    {
        decimal? amount = null;
        if (!string.IsNullOrWhiteSpace(refundAmt))
        {
            if (!decimal.TryParse(refundAmt.Trim(), NumberStyles.Number, CultureInfo.InvariantCulture, out var parsed))
                return await RefusedAsync(id, "refundAmt: a decimal number, e.g. 7.01", ct);
            amount = parsed;
        }
        if (StoredText.HasNul(saleNo, channel)
            || !await db.CardSales.AnyAsync(s => s.MemberId == id && s.SaleNo == saleNo && (channel == null || s.ChannelName == channel), ct))
            return await RefusedAsync(id, $"This member has no sale {saleNo}.", ct);
        var result = (await CardActionsApi.RefundAsync(saleNo, channel, new StaffRefundRequest(amount), db, refunds, User, ct)).Result;
        return await AfterChangeAsync(id, result, ct);
    }

    public async Task<IActionResult> OnPostCancelUseAsync(long id, string useNo, string? channel, CancellationToken ct)
    {
        if (StoredText.HasNul(useNo, channel))
            return await RefusedAsync(id, $"This member has no use {useNo}.", ct);
        var ownCards = db.MemberCards.Where(c => c.MemberId == id).Select(c => c.Id);
        var channelIds = db.Channels.Where(c => channel == null || c.Name == channel).Select(c => c.Id);
        if (!await db.CardUses.AnyAsync(u => u.UseNo == useNo && ownCards.Contains(u.MemberCardId) && channelIds.Contains(u.ChannelId), ct))
            return await RefusedAsync(id, $"This member has no use {useNo}.", ct);
        var result = (await CardActionsApi.CancelAsync(useNo, channel, db, cancels, User, ct)).Result;
        return await AfterChangeAsync(id, result, ct);
    }

    public async Task<IActionResult> OnPostExtendAsync(long id, string cardId, string? endDate, CancellationToken ct)
    {
        if (StoredText.HasNul(cardId) || !await db.MemberCards.AnyAsync(c => c.Id == cardId && c.MemberId == id, ct))
            return await RefusedAsync(id, $"This member has no card {cardId}.", ct);
        var result = (await CardActionsApi.ExtendAsync(cardId, new ExtendRequest(endDate), db, User, clock, ct)).Result;
        return await AfterChangeAsync(id, result, ct);
    }

    /// <summary>The card's last valid business day, in the zone its days are counted in: what the extend form starts from.</summary>
    public string EndDay(MemberCardView card) => CardExtension.Day(CardCalendar.LocalDate(card.EndTime, CardZone(card.Id)));

    private async Task<IActionResult> RefusedAsync(long id, string error, CancellationToken ct)
    {
        var page = await OnGetAsync(id, null, ct);
        Error = error;
        return page;
    }
}
