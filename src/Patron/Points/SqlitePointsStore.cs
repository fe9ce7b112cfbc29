using System.Data.Common;
using Microsoft.Data.Sqlite;
using Patron.Data;
using Patron.Levels;
using Patron.Writes;
using static Patron.Writes.SqliteSql;

namespace Patron.Points;

/// <summary>Points changes on SQLite: the same reads and writes as <see cref="PostgresPointsStore"/>, a row at a time.</summary>
public sealed class SqlitePointsStore : IWriteStore<PointChange, PointsBatchState, PointsBatchPlan>
{
    private const string SelectLedger = """
        SELECT auto_id, member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before, level_after,
            channel_id, actor, created_at, idempotency_key, request_hash
        FROM point_ledger
        """;

    private const string EarlierKeySql = $"{SelectLedger} WHERE channel_id = $1 AND idempotency_key = $2";

    /// <summary>An operator's keys are the operator's own: <c>ux_point_ledger_operator_key</c>.</summary>
    private const string EarlierOperatorKeySql = $"{SelectLedger} WHERE channel_id IS NULL AND actor = $1 AND idempotency_key = $2";

    private const string InsertLedgerSql = """
        INSERT INTO point_ledger (member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before,
            level_after, channel_id, actor, created_at, idempotency_key, request_hash)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING auto_id
        """;

    public async Task<PointsBatchState> ReadAsync(DbConnection connection, IReadOnlyList<PointChange> batch, DateTimeOffset now, CancellationToken ct)
    {
        await BeginAsync(connection, ct);
        var members = new Dictionary<long, PointsState>();
        await using (var member = Prepare(connection, "SELECT balance, lifetime_earned, level_id FROM members WHERE id = $1", 1))
            foreach (var id in batch.Select(c => c.MemberId).Distinct())
            {
                await using var r = await member.Bind([id]).ExecuteReaderAsync(ct);
                if (await r.ReadAsync(ct))
                    members[id] = new PointsState(r.GetInt64(0), r.GetInt64(1), r.GetByte(2));
            }

        var earlier = new Dictionary<PointKey, PointEntry>();
        await using (var find = Prepare(connection, EarlierKeySql, 2))
        await using (var findOperator = Prepare(connection, EarlierOperatorKeySql, 2))
            foreach (var change in batch.Where(c => c.IdempotencyKey is not null))
            {
                var lookup = change.ByOperator ? findOperator.Bind([change.Actor, change.IdempotencyKey]) : find.Bind([change.ChannelId, change.IdempotencyKey]);
                await using var r = await lookup.ExecuteReaderAsync(ct);
                if (await r.ReadAsync(ct))
                    earlier[change.Key!.Value] = new PointEntry
                    {
                        AutoId = r.GetInt64(0), MemberId = r.GetInt64(1), BusiType = r.GetString(2), BusiBillNum = r.GetString(3),
                        ChangeValue = r.GetInt64(4), BalanceBefore = r.GetInt64(5), BalanceAfter = r.GetInt64(6),
                        LevelBefore = r.GetByte(7), LevelAfter = r.GetByte(8), ChannelId = r.IsDBNull(9) ? null : r.GetInt32(9),
                        Actor = r.GetString(10), CreatedAt = Instant(r.GetInt64(11)),
                        IdempotencyKey = r.GetString(12), RequestHash = r.IsDBNull(13) ? null : r.GetString(13),
                    };
            }

        var levels = new List<Level>();
        await using (var read = Prepare(connection, "SELECT id, name, threshold FROM levels ORDER BY threshold", 0))
        await using (var r = await read.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct))
                levels.Add(new Level { Id = r.GetByte(0), Name = r.GetString(1), Threshold = r.GetInt64(2) });
        var basis = await SettingAsync(connection, SettingKeys.LevelBasis, ct);
        return new PointsBatchState(members, earlier, new LevelTable(levels, LevelTable.ParseBasis(basis) ?? LevelBasis.Lifetime));
    }

    public async Task WriteAsync(DbConnection connection, PointsBatchPlan plan, CancellationToken ct)
    {
        await using (var insert = Prepare(connection, InsertLedgerSql, 13))
            foreach (var e in plan.NewEntries)
                e.AutoId = (long)(await insert.Bind([e.MemberId, e.BusiType, e.BusiBillNum, e.ChangeValue, e.BalanceBefore, e.BalanceAfter,
                    e.LevelBefore, e.LevelAfter, e.ChannelId, e.Actor, e.CreatedAt, e.IdempotencyKey, e.RequestHash]).ExecuteScalarAsync(ct))!;

        await using (var update = Prepare(connection, "UPDATE members SET balance = $1, lifetime_earned = $2, level_id = $3 WHERE id = $4", 4))
            foreach (var (id, state) in plan.Changed)
                await update.Bind([state.Balance, state.LifetimeEarned, state.LevelId, id]).ExecuteNonQueryAsync(ct);

        await AuditRows.WriteSqliteAsync(connection, plan.Audits, ct);
        await CommitAsync(connection, ct);
    }
}
