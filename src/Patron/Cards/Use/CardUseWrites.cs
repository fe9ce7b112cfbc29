using Patron.Channels;
using Patron.Metrics;
using Patron.Writes;

namespace Patron.Cards;

/// <summary>Card uses through the one write road (<see cref="CardUseDecider"/>).</summary>
public sealed class CardUseWrites(WriterConnections connections, IWriteStore<CardUseCall, CardUseBatchState, CardUseBatchPlan> store,
    GroupCommitOptions options, WritePressure pressure, TimeProvider clock, ILogger<CardUseWrites> log)
    : WriteQueue<CardUseCall, CardUseBatchState, CardUseBatchPlan, Outcome<UsageEntryView>>(connections, store, CardUseDecider.Decide, options, pressure, clock, log,
        "card.use", plan => PatronMetrics.CardUsesCommitted(plan.Uses.Count, plan.Outcomes), overlapAt: CardOverlapAt)
{
    /// <summary>
    /// A second batch beside one in flight once 8 wait, not 16: a use costs the database more
    /// of its own than a points add (its row and kept answer, a log row, the entry's counts), so a
    /// smaller batch costs little more a use. At 32 connections it served more uses in 8 of 11
    /// alternated pairs (median 1.10×) and more sales in 6 of 8 (1.13×); points adds served fewer
    /// in every pair, so they keep 16 (bench/results/overlap-2026-12-07.md).
    /// </summary>
    public const int CardOverlapAt = 8;

    public Task<Outcome<UsageEntryView>> UseAsync(Channel channel, UseRequest request, CancellationToken ct) =>
        SubmitAsync(new CardUseCall(channel.Id, request, channel.MaxUseAgeDays), ct);
}
