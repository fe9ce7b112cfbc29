using System.Data.Common;
using Npgsql;
using Patron.Console;
using Patron.Data;
using Patron.Events;
using Patron.Levels;
using Patron.Points.Lots;
using Patron.Writes;
using static Patron.Writes.PostgresSql;

namespace Patron.Points;

/// <summary>
/// Points changes on PostgreSQL, in two round trips: BEGIN and the reads under lock, then the
/// writes and COMMIT.
/// </summary>
public sealed class PostgresPointsStore : IWriteStore<PointChange, PointsBatchState, PointsBatchPlan>
{
    /// <summary>The batch's members, locked in id order, so that batches cannot deadlock.</summary>
    internal const string LockMembersSql =
        "SELECT id, balance, lifetime_earned, level_id, level_since FROM members WHERE id = ANY($1) ORDER BY id FOR UPDATE";

    /// <summary>
    /// Ledger rows already written under the batch's idempotency keys. Each key is looked up on its
    /// own: PostgreSQL never flattens a LATERAL subquery with a LIMIT into a join, so the plan stays a
    /// unique-index lookup per key, whatever the table held when a connection prepared it. (A join of
    /// the keys to the table, planned while it was empty, walks the whole index at every batch.)
    /// </summary>
    internal const string EarlierKeysSql = $"""
        SELECT l.* FROM (SELECT unnest($1::integer[]) AS channel_id, unnest($2::text[]) AS idempotency_key) AS k
        CROSS JOIN LATERAL (SELECT {LedgerColumns} FROM point_ledger AS p
            WHERE p.channel_id = k.channel_id AND p.idempotency_key = k.idempotency_key LIMIT 1) AS l
        """;

    /// <summary>
    /// Operators' ledger rows under the batch's keys: an operator's keys are the operator's own
    /// (<c>ux_point_ledger_operator_key</c>), looked up one by one for the reason given above.
    /// </summary>
    internal const string EarlierOperatorKeysSql = $"""
        SELECT l.* FROM (SELECT unnest($1::text[]) AS actor, unnest($2::text[]) AS idempotency_key) AS k
        CROSS JOIN LATERAL (SELECT {LedgerColumns} FROM point_ledger AS p
            WHERE p.channel_id IS NULL AND p.actor = k.actor AND p.idempotency_key = k.idempotency_key LIMIT 1) AS l
        """;

    internal const string LevelsSql = "SELECT id, name, threshold FROM levels ORDER BY threshold";

    internal const string SettingsSql = "SELECT key, value FROM settings WHERE key = ANY($1)";

    /// <summary>The live lots of the members the batch takes from, through the partial index of live lots.</summary>
    internal const string LiveLotsSql = $"SELECT {PostgresLots.Columns} FROM point_lots WHERE member_id = ANY($1) AND remaining > 0 ORDER BY member_id, id";

    /// <summary>What each member under review earned in their review's window; their ledger rows, one member at a time.</summary>
    internal const string ReviewEarnedSql = """
        SELECT k.member_id, (SELECT COALESCE(SUM(p.earned), 0) FROM point_ledger AS p
            WHERE p.member_id = k.member_id AND p.created_at >= k.since AND p.created_at < k.until)
        FROM (SELECT unnest($1::bigint[]) AS member_id, unnest($2::timestamptz[]) AS since, unnest($3::timestamptz[]) AS until) AS k
        """;

    /// <summary>
    /// The ledger rows, in batch order, so that AutoIds rise in the order the balances chain, and
    /// their events in the same statement.
    /// </summary>
    internal const string InsertLedgerSql = $"""
        WITH l AS (INSERT INTO point_ledger (member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after,
            level_before, level_after, channel_id, actor, created_at, idempotency_key, request_hash, earned, pending_value, shortfall)
        SELECT unnest($1::bigint[]), unnest($2::text[]), unnest($3::text[]), unnest($4::bigint[]), unnest($5::bigint[]),
            unnest($6::bigint[]), unnest($7::smallint[]), unnest($8::smallint[]), unnest($9::integer[]), unnest($10::text[]),
            unnest($11::timestamptz[]), unnest($12::text[]), unnest($13::text[]), unnest($14::bigint[]), unnest($15::bigint[]),
            unnest($16::bigint[])
        RETURNING auto_id, member_id, channel_id, created_at, level_before, level_after),
        e AS ({OutboxRows.LedgerEventsPostgres})
        SELECT auto_id FROM l
        """;

    /// <summary>Each changed member's new balance and level; <c>id = ANY</c> keeps the plan an index lookup.</summary>
    internal const string UpdateMembersSql = """
        UPDATE members AS m SET balance = u.balance, lifetime_earned = u.lifetime_earned, level_id = u.level_id, level_since = u.level_since
        FROM (SELECT unnest($1::bigint[]) AS id, unnest($2::bigint[]) AS balance, unnest($3::bigint[]) AS lifetime_earned,
                unnest($4::smallint[]) AS level_id, unnest($5::timestamptz[]) AS level_since) AS u
        WHERE m.id = u.id AND m.id = ANY($1)
        """;

    private const string LedgerColumns =
        "auto_id, member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before, level_after, " +
        "channel_id, actor, created_at, idempotency_key, request_hash, earned, pending_value, shortfall";

    public async Task<PointsBatchState> ReadAsync(DbConnection connection, IReadOnlyList<PointChange> batch, DateTimeOffset now, CancellationToken ct)
    {
        var keyed = batch.Where(c => c.IdempotencyKey is not null && !c.ByOperator).ToList();
        var operatorKeyed = batch.Where(c => c.IdempotencyKey is not null && c.ByOperator).ToList();
        var consuming = batch.Where(c => c.Consumes).Select(c => c.MemberId).Distinct().ToArray();
        await using var read = Batch(connection,
            Begin(),
            Command(LockMembersSql, [batch.Select(c => c.MemberId).Distinct().Order().ToArray()]),
            Command(EarlierKeysSql, [keyed.Select(c => c.ChannelId!.Value).ToArray(), keyed.Select(c => c.IdempotencyKey!).ToArray()]),
            // Partners' batches, nearly all of them, carry no operator's key and skip the statement.
            operatorKeyed.Count == 0 ? null
                : Command(EarlierOperatorKeysSql, [operatorKeyed.Select(c => c.Actor).ToArray(), operatorKeyed.Select(c => c.IdempotencyKey!).ToArray()]),
            // A batch of earnings alone adds lots without reading any.
            consuming.Length == 0 ? null : Command(LiveLotsSql, [consuming]),
            Command(LevelsSql),
            Command(SettingsSql, [PointsPolicy.Keys]));
        await using var r = await read.ExecuteReaderAsync(ct);
        var members = new Dictionary<long, PointsState>();
        while (await r.ReadAsync(ct))
            members[r.GetInt64(0)] = new PointsState(r.GetInt64(1), r.GetInt64(2), (byte)r.GetInt16(3), r.GetFieldValue<DateTimeOffset>(4));
        await r.NextResultAsync(ct);
        var earlier = new Dictionary<PointKey, PointEntry>();
        for (var sets = operatorKeyed.Count == 0 ? 1 : 2; sets > 0; sets--)
        {
            while (await r.ReadAsync(ct))
            {
                var entry = ReadEntry(r);
                earlier[PointKey.Of(entry)] = entry;
            }
            await r.NextResultAsync(ct);
        }
        var lots = consuming.ToDictionary(id => id, _ => new List<PointLot>());
        if (consuming.Length > 0)
        {
            while (await r.ReadAsync(ct))
            {
                var lot = PostgresLots.Read(r);
                lots[lot.MemberId].Add(lot);
            }
            await r.NextResultAsync(ct);
        }
        var levels = new List<Level>();
        while (await r.ReadAsync(ct))
            levels.Add(new Level { Id = (byte)r.GetInt16(0), Name = r.GetString(1), Threshold = r.GetInt64(2) });
        await r.NextResultAsync(ct);
        var settings = new Dictionary<string, string>();
        while (await r.ReadAsync(ct))
            settings[r.GetString(0)] = r.GetString(1);
        await r.DisposeAsync();

        var policy = PointsPolicy.FromSettings(levels, settings);
        var reviews = Settlement.ReviewWindows(batch, members, policy, now);
        return new PointsBatchState(members, earlier, lots, await ReadReviewEarnedAsync(connection, reviews, ct), policy);
    }

    /// <summary>A second round trip, only in the settling job's batches whose members have a review due.</summary>
    private static async Task<Dictionary<long, long>> ReadReviewEarnedAsync(DbConnection connection,
        List<(long MemberId, DateTimeOffset Since, DateTimeOffset Until)> reviews, CancellationToken ct)
    {
        var earned = new Dictionary<long, long>();
        if (reviews.Count == 0)
            return earned;
        await using var read = Batch(connection, Command(ReviewEarnedSql,
            [reviews.Select(w => w.MemberId).ToArray(), reviews.Select(w => w.Since).ToArray(), reviews.Select(w => w.Until).ToArray()]));
        await using var r = await read.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            earned[r.GetInt64(0)] = r.GetInt64(1);
        return earned;
    }

    public async Task WriteAsync(DbConnection connection, PointsBatchPlan plan, CancellationToken ct)
    {
        var rows = plan.NewEntries;
        var members = plan.Changed.OrderBy(m => m.Key).ToList();
        await using var write = Batch(connection,
            rows.Count == 0 ? null : Command(InsertLedgerSql, [rows.Select(r => r.MemberId).ToArray(), rows.Select(r => r.BusiType).ToArray(),
                rows.Select(r => r.BusiBillNum).ToArray(), rows.Select(r => r.ChangeValue).ToArray(), rows.Select(r => r.BalanceBefore).ToArray(),
                rows.Select(r => r.BalanceAfter).ToArray(), rows.Select(r => (short)r.LevelBefore).ToArray(),
                rows.Select(r => (short)r.LevelAfter).ToArray(), rows.Select(r => r.ChannelId).ToArray(), rows.Select(r => r.Actor).ToArray(),
                rows.Select(r => r.CreatedAt).ToArray(), rows.Select(r => r.IdempotencyKey).ToArray(), rows.Select(r => r.RequestHash).ToArray(),
                rows.Select(r => r.Earned).ToArray(), rows.Select(r => r.PendingValue).ToArray(), rows.Select(r => r.Shortfall).ToArray()]),
            PostgresLots.Insert(plan.NewLots),
            PostgresLots.Update(plan.ChangedLots),
            members.Count == 0 ? null : Command(UpdateMembersSql, [members.Select(m => m.Key).ToArray(), members.Select(m => m.Value.Balance).ToArray(),
                members.Select(m => m.Value.LifetimeEarned).ToArray(), members.Select(m => (short)m.Value.LevelId).ToArray(),
                members.Select(m => m.Value.LevelSince).ToArray()]),
            AuditRows.Postgres(plan.Audits),
            Commit());
        await using var r = await write.ExecuteReaderAsync(ct);
        // The identity is drawn row by row as the arrays are unnested, in their order; sorted, the ids line up with the rows.
        var ids = new List<long>(rows.Count);
        while (await r.ReadAsync(ct))
            ids.Add(r.GetInt64(0));
        while (await r.NextResultAsync(ct))
        {
            // An error in a later statement, COMMIT's included, throws here, before anyone is answered.
        }
        ids.Sort();
        for (var i = 0; i < rows.Count; i++)
            rows[i].AutoId = ids[i];
    }

    private static PointEntry ReadEntry(DbDataReader r) => new()
    {
        AutoId = r.GetInt64(0), MemberId = r.GetInt64(1), BusiType = r.GetString(2), BusiBillNum = r.GetString(3),
        ChangeValue = r.GetInt64(4), BalanceBefore = r.GetInt64(5), BalanceAfter = r.GetInt64(6),
        LevelBefore = (byte)r.GetInt16(7), LevelAfter = (byte)r.GetInt16(8), ChannelId = r.IsDBNull(9) ? null : r.GetInt32(9),
        Actor = r.GetString(10), CreatedAt = r.GetFieldValue<DateTimeOffset>(11),
        IdempotencyKey = r.IsDBNull(12) ? null : r.GetString(12), RequestHash = r.IsDBNull(13) ? null : r.GetString(13),
        Earned = r.GetInt64(14), PendingValue = r.GetInt64(15), Shortfall = r.GetInt64(16),
    };
}
