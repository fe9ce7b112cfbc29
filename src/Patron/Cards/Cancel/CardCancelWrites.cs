using Patron.Channels;
using Patron.Writes;

namespace Patron.Cards;

/// <summary>Cancels of uses through the one write road (<see cref="CardCancelDecider"/>).</summary>
public sealed class CardCancelWrites(WriterConnections connections, IWriteStore<CardCancelCall, CardCancelBatchState, CardCancelBatchPlan> store,
    GroupCommitOptions options, WritePressure pressure, TimeProvider clock, ILogger<CardCancelWrites> log)
    : WriteQueue<CardCancelCall, CardCancelBatchState, CardCancelBatchPlan, Outcome<UsageEntryView>>(connections, store, CardCancelDecider.Decide,
        options, pressure, clock, log, "card.cancel")
{
    public Task<Outcome<UsageEntryView>> CancelAsync(Channel channel, string useNo, CancellationToken ct) =>
        SubmitAsync(new CardCancelCall(channel.Id, useNo), ct);

    /// <summary>An operator's cancel of a channel's use: the same rules and kept answer, audited in the cancel's transaction.</summary>
    public Task<Outcome<UsageEntryView>> CancelAsync(int channelId, string useNo, string actor, CancellationToken ct) =>
        SubmitAsync(new CardCancelCall(channelId, useNo, actor), ct);
}
