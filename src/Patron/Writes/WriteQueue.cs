using System.Data;
using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Npgsql;
using Patron.Data;
using Patron.Metrics;

namespace Patron.Writes;

/// <summary>
/// The one road every write takes. Requests queue up; a writer loop takes whatever has gathered
/// (up to <see cref="GroupCommitOptions.MaxBatch"/>) and settles it in one transaction, so one
/// commit and one flush of the log serve the whole batch: the store reads the batch's state under
/// lock, the decider decides every request on it, the store writes the plan and commits, and only
/// then is each request answered. A request that fails the rules fails alone.
/// </summary>
public class WriteQueue<TRequest, TState, TPlan, TResult> : IAsyncDisposable
    where TPlan : IWritePlan<TResult>
{
    /// <summary>
    /// How often a batch is read and decided again after a conflict the database settled against
    /// it (a key another instance took first, a deadlock): each retry reads what the winner left.
    /// </summary>
    private const int MaxAttempts = 8;

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(10_000) { SingleWriter = false, SingleReader = false, FullMode = BoundedChannelFullMode.Wait });
    private readonly WriterConnections _connections;
    private readonly IWriteStore<TRequest, TState, TPlan> _store;
    private readonly Func<IReadOnlyList<TRequest>, TState, DateTimeOffset, TPlan> _decide;
    private readonly TimeProvider _clock;
    private readonly ILogger _log;
    private readonly Task[] _writers;
    private readonly int _maxBatch;
    private readonly TimeSpan _gather;
    private readonly TimeSpan _answerDelay;
    private readonly string _kind;
    private readonly Action<TPlan>? _committed;
    private readonly Func<int> _depth;
    private readonly WritePressure _pressure;
    private readonly WriterTurns _turns;
    private long _batches;
    private int _largestBatch;

    /// <param name="kind">The kind of write, as metrics tag it: points, card.sale, card.use, card.cancel, card.refund.</param>
    /// <param name="overlapAt">This kind's <see cref="GroupCommitOptions.OverlapAt"/> unless the setting names one.</param>
    /// <param name="committed">
    /// Given each plan once it has committed, before its answers go out, for what only the plan
    /// knows (the rows it wrote): quick, and a fault in it is logged, never answered.
    /// </param>
    public WriteQueue(WriterConnections connections, IWriteStore<TRequest, TState, TPlan> store,
        Func<IReadOnlyList<TRequest>, TState, DateTimeOffset, TPlan> decide, GroupCommitOptions options, WritePressure pressure, TimeProvider clock,
        ILogger log, string kind = "other", Action<TPlan>? committed = null, int overlapAt = GroupCommitOptions.BatchOverlapAt)
    {
        (_connections, _store, _decide, _pressure, _clock, _log, _kind, _committed) = (connections, store, decide, pressure, clock, log, kind, committed);
        _depth = () => _queue.Reader.Count;
        PatronMetrics.Track(kind, _depth);
        _maxBatch = Math.Max(1, options.MaxBatch);
        _gather = TimeSpan.FromMilliseconds(Math.Max(0, options.GatherMilliseconds));
        _answerDelay = TimeSpan.FromMilliseconds(Math.Max(0, options.AnswerDelayMilliseconds));
        var writers = Math.Clamp(options.Writers, 1, connections.MaxWriters);
        OverlapAt = Math.Max(1, options.OverlapAt ?? overlapAt);
        _turns = new WriterTurns(OverlapAt);
        _writers = [.. Enumerable.Range(0, writers).Select(_ => Task.Run(WriteLoopAsync))];
    }

    private sealed class Pending(TRequest request)
    {
        public TRequest Request { get; } = request;
        public TaskCompletionSource<TResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The writer loops this process runs for this kind of write.</summary>
    public int WriterLoops => _writers.Length;

    /// <summary>How many requests must wait before a second batch starts beside one in flight.</summary>
    public int OverlapAt { get; }

    /// <summary>Batches committed so far, and the largest: what group commit achieved.</summary>
    public (long Batches, int Largest) Stats => (Interlocked.Read(ref _batches), Volatile.Read(ref _largestBatch));

    /// <summary>Queues the request and waits until the transaction that carries it has committed.</summary>
    public async Task<TResult> SubmitAsync(TRequest request, CancellationToken ct)
    {
        var pending = new Pending(request);
        await _queue.Writer.WriteAsync(pending, ct);
        if (_turns.Parked > 0)
            _turns.Queued(_queue.Reader.Count);
        // Once queued, the request is settled whether or not this caller still waits: a client that
        // gives up must not leave half a request behind, and a retry with its key finds the outcome.
        return await pending.Done.Task.WaitAsync(ct);
    }

    /// <summary>A committed batch's measurements; a fault here must not turn a committed batch into failed answers.</summary>
    private void Measure(TPlan plan, int size, long started)
    {
        try
        {
            PatronMetrics.Committed(_kind, size, started);
            _committed?.Invoke(plan);
        }
        catch (Exception e)
        {
            _log.LogError(e, "Measuring a committed batch of {Kind} failed", _kind);
        }
    }

    /// <summary>One transaction: read under lock, decide, write and commit. Throwing leaves nothing committed.</summary>
    private async Task<TPlan> CommitAsync(IReadOnlyList<TRequest> batch)
    {
        var connection = await _connections.OpenAsync(CancellationToken.None);
        var settled = false;
        try
        {
            var now = _clock.GetUtcNow();
            var state = await _store.ReadAsync(connection, batch, now, CancellationToken.None);
            var plan = _decide(batch, state, now);
            await _store.WriteAsync(connection, plan, CancellationToken.None);
            settled = true;
            return plan;
        }
        catch
        {
            await RollBackAsync(connection);
            throw;
        }
        finally
        {
            await _connections.ReleaseAsync(connection, settled);
        }
    }

    /// <summary>So that no connection goes back to its pool in the middle of a transaction.</summary>
    private static async Task RollBackAsync(DbConnection connection)
    {
        if (connection.State != ConnectionState.Open)
            return; // broken: neither driver pools a broken connection
        try
        {
            // Outside a transaction (COMMIT already failed and ended it) this is a warning or a no-op error.
            await using var rollback = connection.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException)
        {
            // The connection failed with the batch, so the first error is the one to report.
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            if (!await _turns.StartOrParkAsync(_queue.Reader.Count))
                continue;
            try
            {
                batch.Clear();
                while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var pending))
                    batch.Add(pending);
                if (batch.Count == 0)
                    continue;
                if (_gather > TimeSpan.Zero)
                    await GatherAsync(batch);
                Interlocked.Increment(ref _batches);
                if (batch.Count > Volatile.Read(ref _largestBatch))
                    Volatile.Write(ref _largestBatch, batch.Count);
                await SettleAsync(batch);
            }
            finally
            {
                _turns.Done();
            }
        }
    }

    private async Task GatherAsync(List<Pending> batch)
    {
        using var window = new CancellationTokenSource(_gather);
        try
        {
            while (batch.Count < _maxBatch && await _queue.Reader.WaitToReadAsync(window.Token))
                while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var pending))
                    batch.Add(pending);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SettleAsync(List<Pending> batch)
    {
        var requests = batch.Select(p => p.Request).ToList();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var plan = await CommitAsync(requests);
                Measure(plan, batch.Count, started);
                var results = plan.Outcomes;
                if (_answerDelay > TimeSpan.Zero)
                    await Task.Delay(_answerDelay);
                // Counted before the answers go out: a caller's next request, sent once it has its
                // answer, was not waiting behind this batch.
                if (_queue.Reader.Count > 0)
                    _pressure.BackedUp();
                for (var i = 0; i < batch.Count; i++)
                    batch[i].Done.TrySetResult(results[i]);
                return;
            }
            catch (Exception e) when (attempt < MaxAttempts && IsConflict(e))
            {
                await Task.Delay(Random.Shared.Next(1, 1 + attempt));
            }
            catch (Exception e) when (batch.Count > 1 && !StorageFault.IsUnavailable(e))
            {
                // The database refused something the rules let through: one request must not fail the
                // rest of its batch, so each is settled alone and only the one at fault fails.
                _log.LogWarning(e, "A batch of {Count} requests failed; settling each alone", batch.Count);
                foreach (var pending in batch)
                    await SettleAsync([pending]);
                return;
            }
            catch (Exception e)
            {
                if (StorageFault.IsUnavailable(e))
                    StorageFault.Report(_log, e);
                else
                    _log.LogError(e, "A batch of {Count} requests could not be committed", batch.Count);
                foreach (var pending in batch)
                    pending.Done.TrySetException(e);
                return;
            }
        }
    }

    /// <summary>
    /// A conflict after which the batch is read and decided again: a unique key taken by a
    /// concurrent transaction (another instance answering the same key), a serialization failure
    /// or a deadlock. Nothing was committed.
    /// </summary>
    public static bool IsConflict(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure
            or PostgresErrorCodes.DeadlockDetected,
        SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        DbException { InnerException: { } inner } => IsConflict(inner),
        _ => false,
    };

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _turns.Close(_writers.Length);
        await Task.WhenAll(_writers);
        PatronMetrics.Untrack(_depth);
        GC.SuppressFinalize(this);
    }
}
