using Patron.Channels;
using Patron.Writes;

namespace Patron.Cards;

/// <summary>Card sales through the one write road (<see cref="CardSaleDecider"/>).</summary>
public sealed class CardSaleWrites(WriterConnections connections, IWriteStore<SaleCall, CardSaleBatchState, CardSaleBatchPlan> store,
    GroupCommitOptions options, WritePressure pressure, TimeProvider clock, ILogger<CardSaleWrites> log)
    : WriteQueue<SaleCall, CardSaleBatchState, CardSaleBatchPlan, Outcome<string>>(connections, store, CardSaleDecider.Decide, options, pressure, clock, log, "card.sale",
        overlapAt: GroupCommitOptions.CardOverlapAt)
{
    /// <summary>The sale's answer as JSON text: the same text a retry of it gets.</summary>
    public Task<Outcome<string>> SellAsync(Channel channel, SaleRequest request, CancellationToken ct) => SubmitAsync(new SaleCall(channel, request), ct);
}
