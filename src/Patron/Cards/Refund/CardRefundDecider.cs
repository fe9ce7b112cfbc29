using System.Globalization;
using System.Text.Json;
using Patron.Writes;

namespace Patron.Cards;

/// <summary>A refund as the queue sees it: who asked, which sale, and how much (null: what was paid).</summary>
public sealed record CardRefundCall(int ChannelId, string SaleNo, decimal? RefundAmt);

/// <summary>A sale to refund with its cards and their entries (read under lock), and its card's name.</summary>
public sealed record RefundTarget(CardSale Sale, List<MemberCard> Cards, string CardName);

public sealed record CardRefundBatchState(Dictionary<(int Channel, string SaleNo), RefundTarget> Sales);

public sealed record CardRefundBatchPlan(Outcome<RefundView>[] Outcomes, List<RefundTarget> Refunded, List<CardUseLog> Log)
    : IWritePlan<Outcome<RefundView>>;

/// <summary>
/// Decides a batch of refunds one by one: a refund voids the sale's cards and entries, so that no
/// use of them succeeds, and keeps its answer. A refund of a sale already refunded, for the same
/// amount, gets that answer again; for another amount it is 2003 and the first refund stands. Pure.
/// </summary>
public static class CardRefundDecider
{
    public static CardRefundBatchPlan Decide(IReadOnlyList<CardRefundCall> calls, CardRefundBatchState state, DateTimeOffset at)
    {
        var now = at.ToUnixTimeMilliseconds();
        var outcomes = new Outcome<RefundView>[calls.Count];
        var refunded = new List<RefundTarget>();
        var log = new List<CardUseLog>();
        for (var i = 0; i < calls.Count; i++)
        {
            var (channelId, saleNo, refundAmt) = calls[i];
            if (!state.Sales.TryGetValue((channelId, saleNo), out var target))
            {
                outcomes[i] = new Failure(ErrorCode.MemberCardNotFound, $"sale {saleNo} not found");
                continue;
            }
            var sale = target.Sale;
            if (refundAmt > sale.PayAmt)
            {
                outcomes[i] = Failure.Invalid("refundAmt", $"more than the {sale.PayAmt.ToString(CultureInfo.InvariantCulture)} paid");
                continue;
            }
            var amount = refundAmt ?? sale.PayAmt;
            if (sale.Status == CardStatus.Void)
            {
                // A sale refunded before answers were kept is answered with its cards as they are now.
                outcomes[i] = amount != sale.RefundAmt
                    ? new Failure(ErrorCode.SaleNoReused, $"saleNo {saleNo} was already refunded for {sale.RefundAmt?.ToString(CultureInfo.InvariantCulture)}")
                    : sale.RefundResultJson is { } kept ? JsonSerializer.Deserialize(kept, CardJson.Default.RefundView)! : View(target, now);
                continue;
            }

            (sale.Status, sale.RefundAmt, sale.RefundTime) = (CardStatus.Void, amount, now);
            foreach (var card in target.Cards)
            {
                (card.Status, card.LockVersion) = (CardStatus.Void, card.LockVersion + 1);
                foreach (var entry in card.Entries)
                {
                    // Raising the version tells anyone who read the entry before that it moved.
                    (entry.Status, entry.LockVersion) = (CardStatus.Void, entry.LockVersion + 1);
                    log.Add(new CardUseLog { UsageEntryId = entry.Id, Kind = "refund", ChannelId = channelId, At = now, HasUsedNumAfter = entry.HasUsedNum });
                }
            }
            var view = View(target, now);
            sale.RefundResultJson = JsonSerializer.Serialize(view, CardJson.Default.RefundView);
            refunded.Add(target);
            outcomes[i] = view;
        }
        return new CardRefundBatchPlan(outcomes, refunded, log);
    }

    private static RefundView View(RefundTarget target, long now) => new(target.Sale.SaleNo, CardViews.Status(target.Sale.Status), target.Sale.RefundAmt,
        target.Sale.RefundTime, [.. target.Cards.OrderBy(c => c.Id, StringComparer.Ordinal).Select(c => c.ToView(target.Sale, target.CardName, now))]);
}
