using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Patron.Data;

namespace Patron.Writes;

/// <summary>Where the write queues get their connections, and how many batches the database lets write at once.</summary>
public abstract class WriterConnections
{
    /// <summary>The writer loops a queue may run: SQLite lets one transaction write at a time.</summary>
    public abstract int MaxWriters { get; }

    public abstract ValueTask<DbConnection> OpenAsync(CancellationToken ct);
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
/// SQLite has one writer at a time and no round trips: a new connection per batch (pooled by
/// Microsoft.Data.Sqlite), with Patron's pragmas, and one writer loop per queue.
/// </summary>
public sealed class SqliteWriterConnections(SqliteConnectionStringBuilder connection) : WriterConnections
{
    private readonly string _connection = connection.ToString();

    public override int MaxWriters => 1;

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken ct)
    {
        var opened = new SqliteConnection(_connection);
        await opened.OpenAsync(ct);
        await using var pragmas = opened.CreateCommand();
        pragmas.CommandText = SqliteCheckpointer.ConnectionPragmas;
        await pragmas.ExecuteNonQueryAsync(ct);
        return opened;
    }
}
