using System.Data.Common;
using Microsoft.Data.Sqlite;
using Patron.Data;
using Patron.Events;
using Patron.Levels;
using Patron.Points.Lots;
using Patron.Writes;
using static Patron.Writes.SqliteSql;

namespace Patron.Points;

/// <summary>Points changes on SQLite: the same reads and writes as <see cref="PostgresPointsStore"/>, a row at a time.</summary>
public sealed class SqlitePointsStore : IWriteStore<PointChange, PointsBatchState, PointsBatchPlan>
{
    private const string SelectLedger = """
        SELECT auto_id, member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before, level_after,
            channel_id, actor, created_at, idempotency_key, request_hash, earned, pending_value, shortfall
        FROM point_ledger
        """;

    private const string EarlierKeySql = $"{SelectLedger} WHERE channel_id = $1 AND idempotency_key = $2";

    /// <summary>An operator's keys are the operator's own: <c>ux_point_ledger_operator_key</c>.</summary>
    private const string EarlierOperatorKeySql = $"{SelectLedger} WHERE channel_id IS NULL AND actor = $1 AND idempotency_key = $2";

    private const string InsertLedgerSql = """
        INSERT INTO point_ledger (member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before,
            level_after, channel_id, actor, created_at, idempotency_key, request_hash, earned, pending_value, shortfall)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING auto_id
        """;

    private const string LiveLotsSql = $"SELECT {PostgresLots.Columns} FROM point_lots WHERE member_id = $1 AND remaining > 0 ORDER BY id";

    private const string InsertLotSql = """
        INSERT INTO point_lots (member_id, channel_id, busi_type, busi_bill_num, amount, remaining, pending, earned_at, available_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """;

    /// <summary>The policy's settings in one statement: a batch compiles it once, not once a key.</summary>
    private static readonly string SettingsSql =
        $"SELECT key, value FROM settings WHERE key IN ({string.Join(", ", PointsPolicy.Keys.Select((_, i) => $"${i + 1}"))})";

    private const string ReviewEarnedSql = "SELECT COALESCE(SUM(earned), 0) FROM point_ledger WHERE member_id = $1 AND created_at >= $2 AND created_at < $3";

    public async Task<PointsBatchState> ReadAsync(DbConnection connection, IReadOnlyList<PointChange> batch, DateTimeOffset now, CancellationToken ct)
    {
        await BeginAsync(connection, ct);
        var members = new Dictionary<long, PointsState>();
        var member = Prepare(connection, "SELECT balance, lifetime_earned, level_id, level_since FROM members WHERE id = $1", 1);
        foreach (var id in batch.Select(c => c.MemberId).Distinct())
        {
            await using var r = await member.Bind([id]).ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
                members[id] = new PointsState(r.GetInt64(0), r.GetInt64(1), r.GetByte(2), Instant(r.GetInt64(3)));
        }

        var earlier = new Dictionary<PointKey, PointEntry>();
        var find = Prepare(connection, EarlierKeySql, 2);
        var findOperator = Prepare(connection, EarlierOperatorKeySql, 2);
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
                    Earned = r.GetInt64(14), PendingValue = r.GetInt64(15), Shortfall = r.GetInt64(16),
                };
        }

        var lots = new Dictionary<long, List<PointLot>>();
        var live = Prepare(connection, LiveLotsSql, 1);
        foreach (var id in batch.Where(c => c.Consumes).Select(c => c.MemberId).Distinct())
        {
            var list = lots[id] = [];
            await using var r = await live.Bind([id]).ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                list.Add(new PointLot
                {
                    Id = r.GetInt64(0), MemberId = r.GetInt64(1), ChannelId = r.IsDBNull(2) ? null : r.GetInt32(2), BusiType = r.GetString(3),
                    BusiBillNum = r.GetString(4), Amount = r.GetInt64(5), Remaining = r.GetInt64(6), Pending = r.GetBoolean(7),
                    EarnedAt = Instant(r.GetInt64(8)), AvailableAt = Instant(r.GetInt64(9)), ExpiresAt = r.IsDBNull(10) ? null : Instant(r.GetInt64(10)),
                });
        }

        var levels = new List<Level>();
        await using (var r = await Prepare(connection, "SELECT id, name, threshold FROM levels ORDER BY threshold", 0).ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct))
                levels.Add(new Level { Id = r.GetByte(0), Name = r.GetString(1), Threshold = r.GetInt64(2) });
        var settings = new Dictionary<string, string>();
        await using (var r = await Prepare(connection, SettingsSql, PointsPolicy.Keys.Length).Bind(PointsPolicy.Keys).ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct))
                settings[r.GetString(0)] = r.GetString(1);
        var policy = PointsPolicy.FromSettings(levels, settings);

        var earned = new Dictionary<long, long>();
        var sum = Prepare(connection, ReviewEarnedSql, 3);
        foreach (var (id, since, until) in Settlement.ReviewWindows(batch, members, policy, now))
            earned[id] = (long)(await sum.Bind([id, since, until]).ExecuteScalarAsync(ct))!;
        return new PointsBatchState(members, earlier, lots, earned, policy);
    }

    public async Task WriteAsync(DbConnection connection, PointsBatchPlan plan, CancellationToken ct)
    {
        var ledger = Prepare(connection, InsertLedgerSql, 16);
        var events = Prepare(connection, OutboxRows.LedgerEventsSqlite, 5);
        foreach (var e in plan.NewEntries)
        {
            e.AutoId = (long)(await ledger.Bind([e.MemberId, e.BusiType, e.BusiBillNum, e.ChangeValue, e.BalanceBefore, e.BalanceAfter,
                e.LevelBefore, e.LevelAfter, e.ChannelId, e.Actor, e.CreatedAt, e.IdempotencyKey, e.RequestHash,
                e.Earned, e.PendingValue, e.Shortfall]).ExecuteScalarAsync(ct))!;
            await events.Bind([e.AutoId, e.MemberId, e.ChannelId, e.CreatedAt, e.LevelBefore != e.LevelAfter]).ExecuteNonQueryAsync(ct);
        }

        var newLot = Prepare(connection, InsertLotSql, 10);
        foreach (var l in plan.NewLots)
            await newLot.Bind([l.MemberId, l.ChannelId, l.BusiType, l.BusiBillNum, l.Amount, l.Remaining, l.Pending,
                l.EarnedAt, l.AvailableAt, l.ExpiresAt]).ExecuteNonQueryAsync(ct);
        var changedLot = Prepare(connection, "UPDATE point_lots SET remaining = $1, pending = $2 WHERE id = $3", 3);
        foreach (var l in plan.ChangedLots)
            await changedLot.Bind([l.Remaining, l.Pending, l.Id]).ExecuteNonQueryAsync(ct);

        var member = Prepare(connection, "UPDATE members SET balance = $1, lifetime_earned = $2, level_id = $3, level_since = $4 WHERE id = $5", 5);
        foreach (var (id, state) in plan.Changed)
            await member.Bind([state.Balance, state.LifetimeEarned, state.LevelId, state.LevelSince, id]).ExecuteNonQueryAsync(ct);

        await AuditRows.WriteSqliteAsync(connection, plan.Audits, ct);
        await CommitAsync(connection, ct);
    }
}
