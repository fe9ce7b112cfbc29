using Patron.Channels;
using Patron.Writes;

namespace Patron.Cards;

/// <summary>Refunds of sales through the one write road (<see cref="CardRefundDecider"/>).</summary>
public sealed class CardRefundWrites(WriterConnections connections, IWriteStore<CardRefundCall, CardRefundBatchState, CardRefundBatchPlan> store,
    GroupCommitOptions options, WritePressure pressure, TimeProvider clock, ILogger<CardRefundWrites> log)
    : WriteQueue<CardRefundCall, CardRefundBatchState, CardRefundBatchPlan, Outcome<RefundView>>(connections, store, CardRefundDecider.Decide,
        options, pressure, clock, log, "card.refund")
{
    public Task<Outcome<RefundView>> RefundAsync(Channel channel, string saleNo, decimal? refundAmt, CancellationToken ct) =>
        SubmitAsync(new CardRefundCall(channel.Id, saleNo, refundAmt), ct);

    /// <summary>An operator's refund of a channel's sale: the same rules and kept answer, audited in the refund's transaction.</summary>
    public Task<Outcome<RefundView>> RefundAsync(int channelId, string saleNo, decimal? refundAmt, string actor, CancellationToken ct) =>
        SubmitAsync(new CardRefundCall(channelId, saleNo, refundAmt, actor), ct);
}
