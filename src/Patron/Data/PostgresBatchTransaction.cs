using System.Data;
using Npgsql;

namespace Patron.Data;

/// <summary>
/// A group-commit batch's transaction on PostgreSQL in two round trips rather than three:
/// <see cref="Begin"/> is the first statement of the read batch and <see cref="Commit"/> the last
/// of the write batch, where an <see cref="NpgsqlTransaction"/>'s commit would be a round trip of its
/// own. A batch runs up to one Sync, so a statement that fails skips the rest, COMMIT included: the
/// error surfaces as that statement's exception, and nothing is committed.
/// </summary>
public static class PostgresBatchTransaction
{
    public static NpgsqlBatchCommand Begin() => new("BEGIN");

    public static NpgsqlBatchCommand Commit() => new("COMMIT");

    /// <summary>
    /// Runs <paramref name="work"/> on a pooled connection. If it throws, the transaction is rolled
    /// back before the connection returns to the pool, so no connection goes back mid-transaction.
    /// </summary>
    public static async Task<T> RunAsync<T>(NpgsqlDataSource data, Func<NpgsqlConnection, Task<T>> work, CancellationToken ct)
    {
        await using var connection = await data.OpenConnectionAsync(ct);
        try
        {
            return await work(connection);
        }
        catch
        {
            await RollBackAsync(connection);
            throw;
        }
    }

    private static async Task RollBackAsync(NpgsqlConnection connection)
    {
        if (connection.State != ConnectionState.Open)
            return; // broken: Npgsql never returns a broken connection to the pool
        try
        {
            // Outside a transaction (COMMIT already failed and ended it) this is only a warning.
            await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // The connection failed with the batch; Npgsql discards it rather than pool it, so the first error is the one to report.
        }
    }
}
