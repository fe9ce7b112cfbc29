using Npgsql;
using NpgsqlTypes;
using Patron.Events;

namespace Patron.Members.Import;

/// <summary>One transaction of an import: what is taken already, then the writes, then the commit. Disposed uncommitted, it rolls back.</summary>
public interface IMemberImportStore : IAsyncDisposable
{
    /// <summary>Rows whose id or code a member of the database has: (line, problem), in line order, at most <paramref name="max"/>.</summary>
    Task<List<(int Line, string Problem)>> FindTakenAsync(IReadOnlyList<ImportRow> rows, int max, CancellationToken ct);

    Task WriteMembersAsync(IReadOnlyList<ImportRow> rows, DateTimeOffset now, Action<int> progress, CancellationToken ct);

    /// <summary>One ledger row per member with a non-zero balance, so the balance is the sum of the member's ledger.</summary>
    Task WriteOpeningsAsync(IReadOnlyList<ImportRow> rows, string billNum, DateTimeOffset now, Action<int> progress, CancellationToken ct);

    /// <summary>
    /// One lot per member with a non-zero balance, available now and expiring at <paramref name="expiresAt"/>
    /// (null, never), so the balance is the sum of the member's lots.
    /// </summary>
    Task WriteOpeningLotsAsync(IReadOnlyList<ImportRow> rows, string billNum, DateTimeOffset now, DateTimeOffset? expiresAt,
        Action<int> progress, CancellationToken ct);

    Task CommitAsync(CancellationToken ct);
}

/// <summary>PostgreSQL: binary COPY into the tables, inside one transaction.</summary>
public sealed class PostgresMemberImport(NpgsqlConnection connection, NpgsqlTransaction transaction) : IMemberImportStore
{
    public static async Task<PostgresMemberImport> BeginAsync(NpgsqlDataSource source, CancellationToken ct)
    {
        var connection = await source.OpenConnectionAsync(ct);
        return new PostgresMemberImport(connection, await connection.BeginTransactionAsync(ct));
    }

    public async Task<List<(int Line, string Problem)>> FindTakenAsync(IReadOnlyList<ImportRow> rows, int max, CancellationToken ct)
    {
        // The file's keys go to a temporary table, so that a million of them meet the members in two joins, not a million lookups.
        await ExecuteAsync("CREATE TEMP TABLE import_keys (line integer NOT NULL, id bigint NOT NULL, code text NOT NULL) ON COMMIT DROP", ct);
        await using (var keys = await connection.BeginBinaryImportAsync("COPY import_keys (line, id, code) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var row in rows)
            {
                keys.StartRow();
                keys.Write(row.Line, NpgsqlDbType.Integer);
                keys.Write(row.Id, NpgsqlDbType.Bigint);
                keys.Write(row.Code, NpgsqlDbType.Text);
            }
            await keys.CompleteAsync(ct);
        }
        await ExecuteAsync("ANALYZE import_keys", ct);
        await using var find = new NpgsqlCommand("""
            (SELECT k.line, true, m.id, m.code FROM import_keys k JOIN members m ON m.id = k.id ORDER BY k.line LIMIT $1)
            UNION ALL
            (SELECT k.line, false, m.id, m.code FROM import_keys k JOIN members m ON m.code = k.code AND m.id <> k.id ORDER BY k.line LIMIT $1)
            ORDER BY 1 LIMIT $1
            """, connection, transaction) { Parameters = { new() { Value = max } }, CommandTimeout = 0 };
        var taken = new List<(int, string)>();
        await using var reader = await find.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            taken.Add((reader.GetInt32(0), reader.GetBoolean(1)
                ? $"member {reader.GetInt64(2)} is in the database already (code '{reader.GetString(3)}')"
                : $"code '{reader.GetString(3)}' belongs to member {reader.GetInt64(2)} in the database already"));
        return taken;
    }

    public async Task WriteMembersAsync(IReadOnlyList<ImportRow> rows, DateTimeOffset now, Action<int> progress, CancellationToken ct)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY members (id, code, name, phone, level_id, balance, lifetime_earned, created_at, level_since) FROM STDIN (FORMAT BINARY)", ct);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            copy.StartRow();
            copy.Write(row.Id, NpgsqlDbType.Bigint);
            copy.Write(row.Code, NpgsqlDbType.Varchar);
            WriteText(copy, row.Name);
            WriteText(copy, row.Phone);
            copy.Write((short)row.LevelId, NpgsqlDbType.Smallint);
            copy.Write(row.Balance, NpgsqlDbType.Bigint);
            copy.Write(row.LifetimeEarned, NpgsqlDbType.Bigint);
            copy.Write(now, NpgsqlDbType.TimestampTz);
            copy.Write(now, NpgsqlDbType.TimestampTz); // level_since: a first review is due a period after the import
            if ((i + 1) % 100_000 == 0)
                progress(i + 1);
        }
        await CompleteAsync(copy, ct);
    }

    public async Task WriteOpeningsAsync(IReadOnlyList<ImportRow> rows, string billNum, DateTimeOffset now, Action<int> progress, CancellationToken ct)
    {
        await using var copy = await connection.BeginBinaryImportAsync("""
            COPY point_ledger (member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before, level_after,
                actor, created_at, earned) FROM STDIN (FORMAT BINARY)
            """, ct);
        var written = 0;
        foreach (var row in rows.Where(r => r.Balance != 0))
        {
            copy.StartRow();
            copy.Write(row.Id, NpgsqlDbType.Bigint);
            copy.Write(MemberImport.OpeningBusiType, NpgsqlDbType.Varchar);
            copy.Write(billNum, NpgsqlDbType.Varchar);
            copy.Write(row.Balance, NpgsqlDbType.Bigint);
            copy.Write(0L, NpgsqlDbType.Bigint);
            copy.Write(row.Balance, NpgsqlDbType.Bigint);
            copy.Write((short)row.LevelId, NpgsqlDbType.Smallint);
            copy.Write((short)row.LevelId, NpgsqlDbType.Smallint);
            copy.Write(MemberImport.Actor, NpgsqlDbType.Varchar);
            copy.Write(now, NpgsqlDbType.TimestampTz);
            copy.Write(row.Balance, NpgsqlDbType.Bigint);
            if (++written % 100_000 == 0)
                progress(written);
        }
        await CompleteAsync(copy, ct);
        await copy.DisposeAsync(); // ends the COPY, so the connection takes the next statement
        await using var events = connection.CreateCommand();
        events.CommandText = OutboxRows.ImportEventsSql;
        events.Parameters.Add(new NpgsqlParameter { Value = billNum });
        events.Parameters.Add(new NpgsqlParameter { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await events.ExecuteNonQueryAsync(ct);
    }

    public async Task WriteOpeningLotsAsync(IReadOnlyList<ImportRow> rows, string billNum, DateTimeOffset now, DateTimeOffset? expiresAt,
        Action<int> progress, CancellationToken ct)
    {
        await using var copy = await connection.BeginBinaryImportAsync("""
            COPY point_lots (member_id, busi_type, busi_bill_num, amount, remaining, pending, earned_at, available_at, expires_at)
                FROM STDIN (FORMAT BINARY)
            """, ct);
        var written = 0;
        foreach (var row in rows.Where(r => r.Balance != 0))
        {
            copy.StartRow();
            copy.Write(row.Id, NpgsqlDbType.Bigint);
            copy.Write(MemberImport.OpeningBusiType, NpgsqlDbType.Varchar);
            copy.Write(billNum, NpgsqlDbType.Varchar);
            copy.Write(row.Balance, NpgsqlDbType.Bigint);
            copy.Write(row.Balance, NpgsqlDbType.Bigint);
            copy.Write(false, NpgsqlDbType.Boolean);
            copy.Write(now, NpgsqlDbType.TimestampTz);
            copy.Write(now, NpgsqlDbType.TimestampTz);
            if (expiresAt is { } at)
                copy.Write(at, NpgsqlDbType.TimestampTz);
            else
                copy.WriteNull();
            if (++written % 100_000 == 0)
                progress(written);
        }
        await CompleteAsync(copy, ct);
    }

    public async Task CommitAsync(CancellationToken ct) => await transaction.CommitAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }

    private static void WriteText(NpgsqlBinaryImporter copy, string? text)
    {
        if (text is null)
            copy.WriteNull();
        else
            copy.Write(text, NpgsqlDbType.Varchar);
    }

    /// <summary>A member added by someone else since the check (another instance, another import) fails the COPY on its unique index.</summary>
    private static async Task CompleteAsync(NpgsqlBinaryImporter copy, CancellationToken ct)
    {
        try
        {
            await copy.CompleteAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new ImportConflictException($"a member with the same id or code was added while the import ran ({e.ConstraintName})");
        }
    }

    private async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>The database changed under the import, after its check: nothing was written.</summary>
public sealed class ImportConflictException(string message) : Exception(message);
