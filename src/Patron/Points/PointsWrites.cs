using Patron.Metrics;
using Patron.Writes;

namespace Patron.Points;

/// <summary>Every points change, a partner's or an operator's, through the one write road.</summary>
public sealed class PointsWrites(WriterConnections connections, IWriteStore<PointChange, PointsBatchState, PointsBatchPlan> store,
    GroupCommitOptions options, WritePressure pressure, TimeProvider clock, ILogger<PointsWrites> log)
    : WriteQueue<PointChange, PointsBatchState, PointsBatchPlan, Outcome<PointEntry>>(connections, store, PointsDecider.Decide, options, pressure, clock, log,
        "points", plan => PatronMetrics.PointsCommitted(plan.NewEntries))
{
    /// <summary>Refuses a request of the wrong shape at once; any other waits for the batch that carries it.</summary>
    public Task<Outcome<PointEntry>> AddAsync(PointChange change, CancellationToken ct) =>
        PointRules.Validate(change.BusiType, change.BusiBillNum, change.ChangeValue) is { } invalid
            ? Task.FromResult<Outcome<PointEntry>>(invalid)
            : SubmitAsync(change, ct);

    /// <summary>The settling job's request for one member; nothing due answers with neither a row nor a failure.</summary>
    public Task<Outcome<PointEntry>> SettleAsync(long memberId, CancellationToken ct) => SubmitAsync(PointChange.Settle(memberId), ct);
}
