using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Patron.Data;
using Patron.Events;

namespace Patron.Members.Import;

/// <summary>SQLite: prepared inserts inside one IMMEDIATE transaction, whose one commit is the import's one flush.</summary>
public sealed class SqliteMemberImport(SqliteConnection connection, SqliteTransaction transaction) : IMemberImportStore
{
    private static readonly DateTimeOffsetToBinaryConverter Instants = new();

    public static async Task<SqliteMemberImport> BeginAsync(SqliteConnectionStringBuilder builder, CancellationToken ct)
    {
        var connection = new SqliteConnection(builder.ToString());
        await connection.OpenAsync(ct);
        await using (var pragmas = connection.CreateCommand())
        {
            pragmas.CommandText = SqliteCheckpointer.ConnectionPragmas;
            await pragmas.ExecuteNonQueryAsync(ct);
        }
        return new SqliteMemberImport(connection, (SqliteTransaction)await connection.BeginTransactionAsync(ct)); // BEGIN IMMEDIATE
    }

    public async Task<List<(int Line, string Problem)>> FindTakenAsync(IReadOnlyList<ImportRow> rows, int max, CancellationToken ct)
    {
        // In-process lookups through the two unique indexes cost microseconds each: no need for a join.
        await using var byId = Command("SELECT code FROM members WHERE id = $1", SqliteType.Integer);
        await using var byCode = Command("SELECT id FROM members WHERE code = $1", SqliteType.Text);
        var taken = new List<(int, string)>();
        foreach (var row in rows)
        {
            byId.Parameters[0].Value = row.Id;
            if (await byId.ExecuteScalarAsync(ct) is string code)
                taken.Add((row.Line, $"member {row.Id} is in the database already (code '{code}')"));
            byCode.Parameters[0].Value = row.Code;
            if (await byCode.ExecuteScalarAsync(ct) is long id && id != row.Id)
                taken.Add((row.Line, $"code '{row.Code}' belongs to member {id} in the database already"));
            if (taken.Count >= max)
                break;
        }
        return [.. taken.Take(max)];
    }

    public async Task WriteMembersAsync(IReadOnlyList<ImportRow> rows, DateTimeOffset now, Action<int> progress, CancellationToken ct)
    {
        await using var insert = Command("""
            INSERT INTO members (id, code, name, phone, level_id, balance, lifetime_earned, created_at, level_since)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
            """, SqliteType.Integer, SqliteType.Text, SqliteType.Text, SqliteType.Text,
            SqliteType.Integer, SqliteType.Integer, SqliteType.Integer, SqliteType.Integer);
        var at = Instants.ConvertToProvider(now);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            object?[] values = [row.Id, row.Code, row.Name, row.Phone, row.LevelId, row.Balance, row.LifetimeEarned, at];
            for (var v = 0; v < values.Length; v++)
                insert.Parameters[v].Value = values[v] ?? DBNull.Value;
            await insert.ExecuteNonQueryAsync(ct);
            if ((i + 1) % 100_000 == 0)
                progress(i + 1);
        }
    }

    public async Task WriteOpeningsAsync(IReadOnlyList<ImportRow> rows, string billNum, DateTimeOffset now, Action<int> progress, CancellationToken ct)
    {
        await using var insert = Command($"""
            INSERT INTO point_ledger (member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before,
                level_after, actor, created_at, earned)
            VALUES ($1, '{MemberImport.OpeningBusiType}', $2, $3, 0, $3, $4, $4, '{MemberImport.Actor}', $5, $3)
            """, SqliteType.Integer, SqliteType.Text, SqliteType.Integer, SqliteType.Integer, SqliteType.Integer);
        insert.Parameters[1].Value = billNum;
        insert.Parameters[4].Value = Instants.ConvertToProvider(now);
        var written = 0;
        foreach (var row in rows.Where(r => r.Balance != 0))
        {
            insert.Parameters[0].Value = row.Id;
            insert.Parameters[2].Value = row.Balance;
            insert.Parameters[3].Value = row.LevelId;
            await insert.ExecuteNonQueryAsync(ct);
            if (++written % 100_000 == 0)
                progress(written);
        }
        await using var events = Command(OutboxRows.ImportEventsSql, SqliteType.Text, SqliteType.Integer);
        events.Parameters[0].Value = billNum;
        events.Parameters[1].Value = Instants.ConvertToProvider(now);
        await events.ExecuteNonQueryAsync(ct);
    }

    public async Task WriteOpeningLotsAsync(IReadOnlyList<ImportRow> rows, string billNum, DateTimeOffset now, DateTimeOffset? expiresAt,
        Action<int> progress, CancellationToken ct)
    {
        await using var insert = Command($"""
            INSERT INTO point_lots (member_id, busi_type, busi_bill_num, amount, remaining, pending, earned_at, available_at, expires_at)
            VALUES ($1, '{MemberImport.OpeningBusiType}', $2, $3, $3, 0, $4, $4, $5)
            """, SqliteType.Integer, SqliteType.Text, SqliteType.Integer, SqliteType.Integer, SqliteType.Integer);
        insert.Parameters[1].Value = billNum;
        insert.Parameters[3].Value = Instants.ConvertToProvider(now);
        insert.Parameters[4].Value = expiresAt is { } at ? Instants.ConvertToProvider(at) : DBNull.Value;
        var written = 0;
        foreach (var row in rows.Where(r => r.Balance != 0))
        {
            insert.Parameters[0].Value = row.Id;
            insert.Parameters[2].Value = row.Balance;
            await insert.ExecuteNonQueryAsync(ct);
            if (++written % 100_000 == 0)
                progress(written);
        }
    }

    public async Task CommitAsync(CancellationToken ct)
    {
        await transaction.CommitAsync(ct);
        // The service checkpoints in the background; this command does not run it, so the import's log is folded in now.
        await using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        await checkpoint.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }

    private SqliteCommand Command(string sql, params SqliteType[] types)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        for (var i = 0; i < types.Length; i++)
            command.Parameters.Add(new SqliteParameter($"${i + 1}", types[i]));
        command.Prepare();
        return command;
    }
}
