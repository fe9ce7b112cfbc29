using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Patron.Data;
using SQLitePCL;

namespace Patron.Writes;

/// <summary>Where the write queues get their connections, and how many batches the database lets write at once.</summary>
public abstract class WriterConnections
{
    /// <summary>The writer loops a queue may run: SQLite lets one transaction write at a time.</summary>
    public abstract int MaxWriters { get; }

    public abstract ValueTask<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>
    /// Hands back a connection from <see cref="OpenAsync"/> once its batch is over:
    /// <paramref name="settled"/> when the batch committed; otherwise it failed (rolled back, or the
    /// connection broken) and the connection is not to be built on.
    /// </summary>
    public virtual ValueTask ReleaseAsync(DbConnection connection, bool settled) => connection.DisposeAsync();
}

/// <summary>
/// The writers' own pool of PostgreSQL connections. A store sends the same few statements for
/// every batch, so Npgsql prepares them and PostgreSQL plans each one once per connection (a
/// generic plan), rather than parsing and planning them again for every batch. Every one of those
/// statements finds its rows through an index on the key it is given; with sequential scans ruled
/// out, a plan made while a table is still empty (a new database) cannot settle on scanning the
/// table, which would cost more with every row the table gains. That rule prices a table read
/// whole (the levels, a handful of rows) at 10¹⁰, far past the cost at which PostgreSQL compiles a
/// statement's expressions with LLVM at every execution (tens of ms each), so JIT is off: these
/// statements touch a few rows. A batch leaves no session state behind (it ends in COMMIT, or
/// ROLLBACK on failure), so a connection goes back to the pool without a reset.
/// </summary>
public sealed class PostgresWriterConnections(string connection) : WriterConnections, IAsyncDisposable
{
    private readonly NpgsqlDataSource _data = Create(connection);

    public override int MaxWriters => int.MaxValue;

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken ct) => await _data.OpenConnectionAsync(ct);

    public static NpgsqlDataSource Create(string connection)
    {
        var builder = DataSetup.KeepingSessions(connection, prepared: 32);
        builder.Options = DataSetup.WithoutJit($"{builder.Options} -c plan_cache_mode=force_generic_plan -c enable_seqscan=off");
        return NpgsqlDataSource.Create(builder);
    }

    public ValueTask DisposeAsync() => _data.DisposeAsync();
}

/// <summary>
/// SQLite has one writer at a time and no round trips: one writer loop per queue, on connections
/// kept open from batch to batch (as many as batches run at once, one per kind of write at most),
/// so that the statements compiled for one batch (<see cref="SqliteSql.Prepare"/>) serve the
/// next: Microsoft.Data.Sqlite compiles a command's SQL again for every new command. A batch that
/// failed takes its connection with it.
/// </summary>
public sealed class SqliteWriterConnections(SqliteConnectionStringBuilder connection) : WriterConnections, IAsyncDisposable
{
    /// <summary>
    /// SQLite's lookaside, the connection's own allocator for small objects, as slots of this size.
    /// Its default (123 slots here) is taken up by the statements a writer keeps, and a batch's
    /// every other allocation would go to malloc; with a thousand none went to malloc for want of
    /// a slot, at 32 or 256 connections (bench/results/sqlite-statements-2026-12-07.md).
    /// </summary>
    private const int LookasideSlot = 1200, LookasideSlots = 1000;

    private const int SqliteDbConfigLookaside = 1001;

    /// <summary>
    /// Not from Microsoft.Data.Sqlite's pool: a handle that EF has used may hold lookaside slots
    /// (its functions), and SQLite resizes the lookaside only while none is in use.
    /// </summary>
    private readonly string _connection = new SqliteConnectionStringBuilder(connection.ToString()) { Pooling = false }.ToString();

    private readonly ConcurrentBag<SqliteConnection> _idle = [];

    public override int MaxWriters => 1;

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken ct)
    {
        if (_idle.TryTake(out var kept))
            return kept;
        var opened = new SqliteConnection(_connection);
        await opened.OpenAsync(ct);
        // Should SQLite refuse (it cannot while any slot is in use), the writer only runs slower.
        raw.sqlite3_db_config(opened.Handle!, SqliteDbConfigLookaside, IntPtr.Zero, LookasideSlot, LookasideSlots);
        await using var pragmas = opened.CreateCommand();
        pragmas.CommandText = SqliteCheckpointer.ConnectionPragmas;
        await pragmas.ExecuteNonQueryAsync(ct);
        return opened;
    }

    public override ValueTask ReleaseAsync(DbConnection connection, bool settled)
    {
        if (!settled || connection.State != ConnectionState.Open)
            return connection.DisposeAsync();
        _idle.Add((SqliteConnection)connection);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var kept))
            await kept.DisposeAsync();
    }
}
