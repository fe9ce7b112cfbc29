using System.Data.Common;

namespace Patron.Writes;

/// <summary>What a decider hands back for a batch: each request's outcome, in batch order, and the rows to write.</summary>
public interface IWritePlan<TResult>
{
    TResult[] Outcomes { get; }
}

/// <summary>
/// The storage half of one kind of write, in one SQL dialect. The two dialects' stores of a write
/// read the same state and write the same plan; only their SQL differs.
/// </summary>
public interface IWriteStore<TRequest, TState, TPlan>
{
    /// <summary>
    /// Begins the batch's transaction and reads, under lock, everything the decider needs: the rows
    /// the batch changes and the answers already given under its keys. Whatever can change an
    /// answer is read here, every time: nothing is remembered between batches.
    /// </summary>
    Task<TState> ReadAsync(DbConnection connection, IReadOnlyList<TRequest> batch, DateTimeOffset now, CancellationToken ct);

    /// <summary>Writes the plan and commits. Throwing leaves nothing committed.</summary>
    Task WriteAsync(DbConnection connection, TPlan plan, CancellationToken ct);
}

/// <summary>An answer kept for a retry under its key: the hash of the request it answered, and the answer.</summary>
public sealed record KeptAnswer(string RequestHash, string Json);
