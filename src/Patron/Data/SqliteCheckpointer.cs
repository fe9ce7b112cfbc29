using Microsoft.Data.Sqlite;

namespace Patron.Data;

/// <summary>
/// Checkpoints SQLite's write-ahead log off the request path. SQLite's automatic checkpoint runs
/// inside the commit that takes the log past 1,000 pages, so that commit, and every request
/// waiting on it, also waits for the database file to be written and flushed. Every connection
/// turns it off (<see cref="ConnectionPragmas"/>) and this service checkpoints instead, every
/// <c>Sqlite:CheckpointMilliseconds</c>: a passive checkpoint, which waits for no one; and should
/// the log still hold more than <c>Sqlite:WalRestartPages</c> (writes never paused long enough for
/// SQLite to start it over), a RESTART checkpoint, which waits for the write of the moment and
/// has the next one start the log over, so the log stays bounded under any load.
/// </summary>
public sealed class SqliteCheckpointer(SqliteConnectionStringBuilder connection, IConfiguration configuration, ILogger<SqliteCheckpointer> log)
    : BackgroundService
{
    /// <summary>Run on every connection Patron opens to SQLite.</summary>
    public const string ConnectionPragmas = "PRAGMA busy_timeout = 30000; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0;";

    private readonly TimeSpan _interval = TimeSpan.FromMilliseconds(configuration.GetValue("Sqlite:CheckpointMilliseconds", 1000));
    private readonly long _restartPages = configuration.GetValue("Sqlite:WalRestartPages", 4_096L);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await CheckpointAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One passive checkpoint, and a RESTART one if the log is still too long.</summary>
    private async Task CheckpointAsync(CancellationToken ct)
    {
        try
        {
            await using var db = new SqliteConnection(connection.ToString());
            await db.OpenAsync(ct);
            await using var pragmas = db.CreateCommand();
            pragmas.CommandText = ConnectionPragmas;
            await pragmas.ExecuteNonQueryAsync(ct);
            if (await RunAsync(db, "PASSIVE", ct) > _restartPages)
                await RunAsync(db, "RESTART", ct);
        }
        catch (Exception e) when (e is SqliteException or InvalidOperationException or IOException)
        {
            // The next tick tries again; meanwhile the log only grows. Thrown on, it would stop the whole host.
            log.LogWarning("SQLite checkpoint failed: {Message}", e.Message);
        }
    }

    /// <summary>Returns the pages in the log.</summary>
    private static async Task<long> RunAsync(SqliteConnection db, string mode, CancellationToken ct)
    {
        await using var checkpoint = db.CreateCommand();
        checkpoint.CommandText = $"PRAGMA wal_checkpoint({mode})";
        await using var result = await checkpoint.ExecuteReaderAsync(ct);
        // busy, pages in the log, pages checkpointed
        return await result.ReadAsync(ct) ? result.GetInt64(1) : 0;
    }
}
