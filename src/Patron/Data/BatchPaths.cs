namespace Patron.Data;

/// <summary>
/// The two ways a group-commit writer settles a batch on PostgreSQL: on what it already knows, in
/// one round trip whose statements check that knowledge, or from a read. Counts which way each went.
/// </summary>
public sealed class BatchPaths
{
    private long _read;
    private long _known;

    /// <summary>Batches settled from a read, and batches settled on what was known.</summary>
    public (long Read, long Known) Counts => (Interlocked.Read(ref _read), Interlocked.Read(ref _known));

    /// <summary>
    /// Awaits <paramref name="known"/>, the batch settled on what the writer knew, or null when it
    /// could not be. When there is none, or the database found that knowledge stale (an error that
    /// <see cref="BatchConflicts.IsRetryable"/> names: nothing was committed), settles the batch
    /// with <paramref name="read"/>.
    /// </summary>
    public async Task<T> SettleAsync<T>(Task<T>? known, Func<Task<T>> read)
    {
        if (known is not null)
            try
            {
                var result = await known;
                Interlocked.Increment(ref _known);
                return result;
            }
            catch (Exception e) when (BatchConflicts.IsRetryable(e))
            {
                // A state moved, a key was taken before, or another instance locked the same rows in another order.
            }
        var fresh = await read();
        Interlocked.Increment(ref _read);
        return fresh;
    }
}
