using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Patron.Data;

/// <summary>How requests are gathered into shared transactions: <c>--GroupCommit:MaxBatch</c>, <c>--GroupCommit:Writers</c>.</summary>
public sealed class GroupCommitOptions
{
    /// <summary>The most requests one transaction carries.</summary>
    public int MaxBatch { get; set; } = 256;

    /// <summary>Writer loops per kind of request and process: while one commits, the next gathers.</summary>
    public int Writers { get; set; } = 2;

    /// <summary>How long a writer waits for more requests before it commits a batch that is not full; 0, not at all.</summary>
    public int GatherMilliseconds { get; set; }

    /// <summary>
    /// These options with one writer loop, for a database that lets one transaction write at a
    /// time (SQLite): a second loop would only wait for the lock in SQLite's busy handler, which
    /// sleeps 1, 2, 5, 10… ms between tries, while its requests could have joined the next batch.
    /// </summary>
    public GroupCommitOptions OneWriter()
    {
        var one = (GroupCommitOptions)MemberwiseClone();
        one.Writers = 1;
        return one;
    }
}

/// <summary>
/// Group commit. Requests queue up; a writer loop takes whatever has gathered (up to
/// <see cref="GroupCommitOptions.MaxBatch"/>) and settles it in one database transaction, so one
/// commit and one flush of the log serve the whole batch. Each request still gets its own outcome:
/// the subclass decides every item by the rules, and a request that fails them fails alone.
/// </summary>
public abstract class GroupCommit<TRequest, TResult> : IAsyncDisposable
{
    private const int MaxAttempts = 8;

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(10_000) { SingleWriter = false, SingleReader = false, FullMode = BoundedChannelFullMode.Wait });
    private readonly Task[] _writers;
    private readonly int _maxBatch;
    private readonly TimeSpan _gather;
    private long _batches;
    private int _largestBatch;
    private readonly ILogger _log;

    protected GroupCommit(GroupCommitOptions options, ILogger log)
    {
        _maxBatch = Math.Max(1, options.MaxBatch);
        _gather = TimeSpan.FromMilliseconds(Math.Max(0, options.GatherMilliseconds));
        _log = log;
        _writers = [.. Enumerable.Range(0, Math.Max(1, options.Writers)).Select(_ => Task.Run(WriteLoopAsync))];
    }

    /// <summary>One queued request and the caller waiting for its outcome.</summary>
    protected sealed class Pending(TRequest request)
    {
        public TRequest Request { get; } = request;
        public TaskCompletionSource<TResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Queues the request and waits until the transaction that carries it has committed.</summary>
    public async Task<TResult> SubmitAsync(TRequest request, CancellationToken ct)
    {
        var pending = new Pending(request);
        await _queue.Writer.WriteAsync(pending, ct);
        // Once queued, the request is settled whether or not this caller still waits: a client that
        // gives up must not leave half a request behind, and a retry with its key finds the outcome.
        return await pending.Done.Task.WaitAsync(ct);
    }

    /// <summary>
    /// Settles a batch in one transaction: decides each request, writes, commits, and only then
    /// returns each request's result, in batch order. Throwing leaves nothing committed.
    /// </summary>
    protected abstract Task<TResult[]> CommitAsync(IReadOnlyList<TRequest> batch, CancellationToken ct);

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        var requests = new List<TRequest>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
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
            requests.Clear();
            requests.AddRange(batch.Select(p => p.Request));
            await SettleAsync(batch, requests);
        }
    }

    /// <summary>The writer loops this process runs for this kind of request.</summary>
    public int WriterLoops => _writers.Length;

    /// <summary>Batches committed so far, and the largest: what group commit achieved.</summary>
    public (long Batches, int Largest) Stats => (Interlocked.Read(ref _batches), Volatile.Read(ref _largestBatch));

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

    private async Task SettleAsync(List<Pending> batch, List<TRequest> requests)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var results = await CommitAsync(requests, CancellationToken.None);
                for (var i = 0; i < batch.Count; i++)
                    batch[i].Done.TrySetResult(results[i]);
                return;
            }
            catch (Exception e) when (attempt < MaxAttempts && BatchConflicts.IsRetryable(e))
            {
                // Another instance committed the same key, or a deadlock victim: decide the batch again.
                await Task.Delay(Random.Shared.Next(1, 1 + attempt));
            }
            catch (Exception e) when (batch.Count > 1 && !StorageFault.IsUnavailable(e))
            {
                // The database refused something the rules let through: one request must not fail the
                // rest of its batch, so each is settled alone and only the one at fault fails.
                _log.LogWarning(e, "A batch of {Count} requests failed; settling each alone", batch.Count);
                foreach (var pending in batch)
                    await SettleAsync([pending], [pending.Request]);
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

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers);
        GC.SuppressFinalize(this);
    }
}

/// <summary>The errors after which a batch is decided again, from a fresh read, rather than failed.</summary>
public static class BatchConflicts
{
    /// <summary>
    /// A unique key taken by a concurrent transaction (or earlier), a serialization failure (a state
    /// the batch was decided on has moved: <c>patron_expect_rows</c>) or a deadlock.
    /// </summary>
    public static bool IsRetryable(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure
            or PostgresErrorCodes.DeadlockDetected,
        SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        DbException { InnerException: { } inner } => IsRetryable(inner),
        _ => false,
    };
}
