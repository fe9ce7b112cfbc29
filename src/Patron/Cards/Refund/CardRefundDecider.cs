using System.Globalization;
using System.Text.Json;
using Patron.Console;
using Patron.Events;
using Patron.Writes;

namespace Patron.Cards;

/// <summary>
/// A refund as the queue sees it: which sale (by the channel that sold it), how much (null: what the
/// card's refund policy allows), and the operator who asked (null: the channel itself).
/// </summary>
public sealed record CardRefundCall(int ChannelId, string SaleNo, decimal? RefundAmt, string? Actor = null);

/// <summary>A sale to refund with its cards and their entries (read under lock), its card's name and refund policy.</summary>
public sealed record RefundTarget(CardSale Sale, List<MemberCard> Cards, string CardName, string Policy = RefundPolicies.Full);

public sealed record CardRefundBatchState(Dictionary<(int Channel, string SaleNo), RefundTarget> Sales);

public sealed record CardRefundBatchPlan(Outcome<RefundView>[] Outcomes, List<RefundTarget> Refunded, List<CardUseLog> Log,
    List<AuditEntry> Audits, List<OutboxEvent> Events) : IWritePlan<Outcome<RefundView>>;

/// <summary>
/// Decides a batch of refunds one by one: a refund voids the sale's cards and entries, so that no
/// use of them succeeds, and keeps its answer. A refund of a sale already refunded, for the same
/// amount, gets that answer again; for another amount it is 2003 and the first refund stands. A
/// refund is at most what the card's refund policy allows (<see cref="RefundAllowance"/>), judged on
/// the uses the entries count under lock. An operator's refund is audited in the same plan. Pure.
/// </summary>
public static class CardRefundDecider
{
    public static CardRefundBatchPlan Decide(IReadOnlyList<CardRefundCall> calls, CardRefundBatchState state, DateTimeOffset at)
    {
        var now = at.ToUnixTimeMilliseconds();
        var outcomes = new Outcome<RefundView>[calls.Count];
        var refunded = new List<RefundTarget>();
        var events = new List<OutboxEvent>();
        var log = new List<CardUseLog>();
        var audits = new List<AuditEntry>();
        for (var i = 0; i < calls.Count; i++)
        {
            var (channelId, saleNo, refundAmt, actor) = calls[i];
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
            if (sale.Status == CardStatus.Void)
            {
                // Judged on the uses the first refund saw, kept in its answer: uses cancelled since must not turn its retry into a 2003.
                var kept = sale.RefundResultJson is { } json ? JsonSerializer.Deserialize(json, CardJson.Default.RefundView) : null;
                var seen = kept is null ? SaleUsage.Of(target.Cards.SelectMany(c => c.Entries)) : SaleUsage.Of(kept.Cards.SelectMany(c => c.MemberUsedList));
                var asked = refundAmt ?? RefundAllowance.Of(target.Policy, sale.PayAmt, seen).Value;
                // A sale refunded before answers were kept is answered with its cards as they are now.
                outcomes[i] = asked != sale.RefundAmt
                    ? new Failure(ErrorCode.SaleNoReused, $"saleNo {saleNo} was already refunded for {sale.RefundAmt?.ToString(CultureInfo.InvariantCulture)}")
                    : kept ?? View(target, now);
                continue;
            }
            var usage = SaleUsage.Of(target.Cards.SelectMany(c => c.Entries));
            var allowed = RefundAllowance.Of(target.Policy, sale.PayAmt, usage);
            if (allowed.Failure is { } refused)
            {
                outcomes[i] = refused;
                continue;
            }
            if (refundAmt > allowed.Value)
            {
                outcomes[i] = RefundAllowance.TooMuch(target.Policy, allowed.Value, usage);
                continue;
            }
            var amount = refundAmt ?? allowed.Value;

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
            events.Add(OutboxEvents.Refunded(sale, channelId));
            if (actor is not null)
                audits.Add(Audit.Entry(actor, at, "card.refund", "sale", saleNo, new { status = CardViews.Status(CardStatus.Effective), sale.PayAmt },
                    new { status = view.Status, refundAmt = amount, channel = sale.ChannelName, policy = target.Policy, usage.Used, usage.Total }));
            outcomes[i] = view;
        }
        return new CardRefundBatchPlan(outcomes, refunded, log, audits, events);
    }

    private static RefundView View(RefundTarget target, long now) => new(target.Sale.SaleNo, CardViews.Status(target.Sale.Status), target.Sale.RefundAmt,
        target.Sale.RefundTime, [.. target.Cards.OrderBy(c => c.Id, StringComparer.Ordinal).Select(c => c.ToView(target.Sale, target.CardName, now))]);
}
