using Patron.Channels;
using Patron.Writes;

namespace Patron.Cards;

/// <summary>Card sales through the one write road (<see cref="CardSaleDecider"/>).</summary>
public sealed class CardSaleWrites(WriterConnections connections, IWriteStore<SaleCall, CardSaleBatchState, CardSaleBatchPlan> store,
    GroupCommitOptions options, TimeProvider clock, ILogger<CardSaleWrites> log)
    : WriteQueue<SaleCall, CardSaleBatchState, CardSaleBatchPlan, Outcome<string>>(connections, store, CardSaleDecider.Decide, options, clock, log)
{
    /// <summary>The sale's answer as JSON text: the same text a retry of it gets.</summary>
    public Task<Outcome<string>> SellAsync(Channel channel, SaleRequest request, CancellationToken ct) => SubmitAsync(new SaleCall(channel, request), ct);
}

/// <summary>Card uses through the one write road (<see cref="CardUseDecider"/>).</summary>
public sealed class CardUseWrites(WriterConnections connections, IWriteStore<CardUseCall, CardUseBatchState, CardUseBatchPlan> store,
    GroupCommitOptions options, TimeProvider clock, ILogger<CardUseWrites> log)
    : WriteQueue<CardUseCall, CardUseBatchState, CardUseBatchPlan, Outcome<UsageEntryView>>(connections, store, CardUseDecider.Decide, options, clock, log)
{
    public Task<Outcome<UsageEntryView>> UseAsync(Channel channel, UseRequest request, CancellationToken ct) =>
        SubmitAsync(new CardUseCall(channel.Id, request), ct);
}

/// <summary>Cancels of uses through the one write road (<see cref="CardCancelDecider"/>).</summary>
public sealed class CardCancelWrites(WriterConnections connections, IWriteStore<CardCancelCall, CardCancelBatchState, CardCancelBatchPlan> store,
    GroupCommitOptions options, TimeProvider clock, ILogger<CardCancelWrites> log)
    : WriteQueue<CardCancelCall, CardCancelBatchState, CardCancelBatchPlan, Outcome<UsageEntryView>>(connections, store, CardCancelDecider.Decide,
        options, clock, log)
{
    public Task<Outcome<UsageEntryView>> CancelAsync(Channel channel, string useNo, CancellationToken ct) =>
        SubmitAsync(new CardCancelCall(channel.Id, useNo), ct);
}

/// <summary>Refunds of sales through the one write road (<see cref="CardRefundDecider"/>).</summary>
public sealed class CardRefundWrites(WriterConnections connections, IWriteStore<CardRefundCall, CardRefundBatchState, CardRefundBatchPlan> store,
    GroupCommitOptions options, TimeProvider clock, ILogger<CardRefundWrites> log)
    : WriteQueue<CardRefundCall, CardRefundBatchState, CardRefundBatchPlan, Outcome<RefundView>>(connections, store, CardRefundDecider.Decide,
        options, clock, log)
{
    public Task<Outcome<RefundView>> RefundAsync(Channel channel, string saleNo, decimal? refundAmt, CancellationToken ct) =>
        SubmitAsync(new CardRefundCall(channel.Id, saleNo, refundAmt), ct);
}
