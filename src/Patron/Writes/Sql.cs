using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Npgsql;
using NpgsqlTypes;
using Patron.Data;

namespace Patron.Writes;

/// <summary>
/// The PostgreSQL stores' statements. A batch's transaction takes two round trips: BEGIN leads the
/// read batch and COMMIT ends the write batch. A batch runs up to one Sync, so a statement that
/// fails skips the rest, COMMIT included, and nothing is committed.
/// </summary>
public static class PostgresSql
{
    public static NpgsqlBatchCommand Begin() => new("BEGIN");

    public static NpgsqlBatchCommand Commit() => new("COMMIT");

    /// <summary>
    /// A statement with positional parameters <c>$1…</c>: each value, most often one array per
    /// column. Not <c>params</c>: a lone <c>string[]</c> would be taken for the whole list.
    /// </summary>
    public static NpgsqlBatchCommand Command(string sql, object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
            command.Parameters.Add(value is DateTimeOffset[] or DateTimeOffset?[]
                ? new NpgsqlParameter { Value = value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz }
                : new NpgsqlParameter { Value = value ?? DBNull.Value });
        return command;
    }

    public static NpgsqlBatchCommand Command(string sql) => new(sql);

    /// <summary>One round trip of statements; a null is left out (a statement with no rows to write).</summary>
    public static NpgsqlBatch Batch(DbConnection connection, params NpgsqlBatchCommand?[] commands)
    {
        var batch = new NpgsqlBatch((NpgsqlConnection)connection);
        foreach (var command in commands)
            if (command is not null)
                batch.BatchCommands.Add(command);
        return batch;
    }
}

/// <summary>
/// The SQLite stores' statements: SQLite has no arrays and no round trips, so a store runs one
/// prepared statement per row inside a <c>BEGIN IMMEDIATE</c> transaction, whose one commit is
/// the batch's one flush.
/// </summary>
public static class SqliteSql
{
    private static readonly DateTimeOffsetToBinaryConverter Instants = new();

    /// <summary>Each writer connection's statements by their SQL, compiled on first use and kept while the connection lives.</summary>
    private static readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> Compiled = new();

    /// <summary>Takes the write lock at once, so that what the batch reads cannot move before it commits.</summary>
    public static Task BeginAsync(DbConnection connection, CancellationToken ct) => RunAsync(connection, "BEGIN IMMEDIATE", ct);

    public static Task CommitAsync(DbConnection connection, CancellationToken ct) => RunAsync(connection, "COMMIT", ct);

    /// <summary>
    /// A statement whose parameters are named <c>$1…$n</c>, to be run once per row by <see cref="Bind"/>:
    /// the connection's own, compiled once (<see cref="SqliteWriterConnections"/>). Not to be
    /// disposed by the caller; it goes with its connection.
    /// </summary>
    public static SqliteCommand Prepare(DbConnection connection, string sql, int parameters)
    {
        var sqlite = (SqliteConnection)connection;
        var statements = Compiled.GetOrCreateValue(sqlite);
        if (statements.TryGetValue(sql, out var kept))
            return kept;
        var command = sqlite.CreateCommand();
        command.CommandText = sql;
        for (var i = 1; i <= parameters; i++)
            command.Parameters.Add(new SqliteParameter { ParameterName = $"${i}" });
        statements[sql] = command;
        return command;
    }

    /// <summary>Sets the command's parameters, in order; instants as EF stores them on SQLite.</summary>
    public static SqliteCommand Bind(this SqliteCommand command, object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
            command.Parameters[i].Value = values[i] switch
            {
                null => DBNull.Value,
                DateTimeOffset instant => Instants.ConvertToProvider(instant),
                var value => value,
            };
        return command;
    }

    /// <summary>A setting's value; null when it is not set.</summary>
    public static async Task<string?> SettingAsync(DbConnection connection, string key, CancellationToken ct) =>
        await Prepare(connection, SettingKeys.ValueSql, 1).Bind([key]).ExecuteScalarAsync(ct) as string;

    public static DateTimeOffset Instant(long stored) => (DateTimeOffset)Instants.ConvertFromProvider(stored)!;

    private static Task RunAsync(DbConnection connection, string sql, CancellationToken ct) =>
        Prepare(connection, sql, 0).ExecuteNonQueryAsync(ct);
}
