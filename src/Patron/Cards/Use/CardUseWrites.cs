using Patron.Channels;
using Patron.Metrics;
using Patron.Writes;

namespace Patron.Cards;

/// <summary>Card uses through the one write road (<see cref="CardUseDecider"/>).</summary>
public sealed class CardUseWrites(WriterConnections connections, IWriteStore<CardUseCall, CardUseBatchState, CardUseBatchPlan> store,
    GroupCommitOptions options, WritePressure pressure, TimeProvider clock, ILogger<CardUseWrites> log)
    : WriteQueue<CardUseCall, CardUseBatchState, CardUseBatchPlan, Outcome<UsageEntryView>>(connections, store, CardUseDecider.Decide, options, pressure, clock, log,
        "card.use", plan => PatronMetrics.CardUsesCommitted(plan.Uses.Count, plan.Outcomes), overlapAt: GroupCommitOptions.CardOverlapAt)
{
    public Task<Outcome<UsageEntryView>> UseAsync(Channel channel, UseRequest request, CancellationToken ct) =>
        SubmitAsync(new CardUseCall(channel.Id, request, channel.MaxUseAgeDays), ct);
}
