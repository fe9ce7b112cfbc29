using System.Data.Common;
using Npgsql;
using Patron.Events;
using Patron.Writes;
using static Patron.Writes.PostgresSql;

namespace Patron.Cards;

/// <summary>
/// Card uses on PostgreSQL: the batch's usage entries are locked in id order (<c>FOR UPDATE</c>, so
/// quotas hold across instances and batches cannot deadlock) with the uses already recorded under
/// its useNos, in one round trip; the writes and COMMIT in another.
/// </summary>
public sealed class PostgresCardUseStore : IWriteStore<CardUseCall, CardUseBatchState, CardUseBatchPlan>
{
    /// <summary>
    /// The batch's entries with their cards and sales. Every row is found by its key through a
    /// LATERAL subquery with a LIMIT, which PostgreSQL never flattens into a join, so the plan stays
    /// a lookup per key whatever the tables held when a connection prepared it. The entries are
    /// looked up twice, by (card, product) for their ids and then by id, because a row locked inside
    /// a LATERAL subquery would be locked in the batch's order, and two instances locking the same
    /// entries in different orders could deadlock.
    /// </summary>
    internal const string LockTargetsSql = $"""
        {SelectTargets}
        WHERE e.id = ANY(ARRAY(
            SELECT l.id FROM (SELECT unnest($1::text[]) AS member_card_id, unnest($2::text[]) AS card_product_id) AS k
            CROSS JOIN LATERAL (SELECT id FROM usage_entries AS u
                WHERE u.member_card_id = k.member_card_id AND u.card_product_id = k.card_product_id LIMIT 1) AS l))
        ORDER BY e.id
        FOR UPDATE OF e
        """;

    /// <summary>Entries e with their cards c and sales s, each found by its key; the caller adds which entries.</summary>
    internal const string SelectTargets = $"""
        SELECT {UseTargets.Columns}
        FROM usage_entries e
        CROSS JOIN LATERAL (SELECT status, member_code, card_info_id, sale_id, lock_version, time_zone, member_id FROM member_cards WHERE id = e.member_card_id LIMIT 1) AS c
        CROSS JOIN LATERAL (SELECT sale_org_code, sale_user, channel_name FROM card_sales WHERE id = c.sale_id LIMIT 1) AS s
        """;

    /// <summary>Uses already recorded under the batch's useNos, each looked up on its own.</summary>
    internal const string EarlierUsesSql = """
        SELECT u.* FROM (SELECT unnest($1::integer[]) AS channel_id, unnest($2::text[]) AS use_no) AS k
        CROSS JOIN LATERAL (SELECT channel_id, use_no, request_hash, result_json FROM card_uses AS c
            WHERE c.channel_id = k.channel_id AND c.use_no = k.use_no LIMIT 1) AS u
        """;

    /// <summary>Live uses of cycles before an entry's last (uses sent late), counted for each (entry, cycle) on its own.</summary>
    internal const string OlderCycleCountsSql = """
        SELECT k.usage_entry_id, k.cycle, n.count FROM (SELECT unnest($1::text[]) AS usage_entry_id, unnest($2::integer[]) AS cycle) AS k
        CROSS JOIN LATERAL (SELECT count(*)::integer AS count FROM card_uses AS c
            WHERE c.usage_entry_id = k.usage_entry_id AND c.cycle = k.cycle AND c.cancelled_at IS NULL) AS n
        """;

    /// <summary>The uses, and each use's card.used event made of its row, in one statement.</summary>
    internal const string InsertUsesSql = $"""
        WITH k AS (
            SELECT unnest($1::integer[]) AS channel_id, unnest($2::text[]) AS use_no, unnest($3::text[]) AS usage_entry_id,
                unnest($4::text[]) AS member_card_id, unnest($5::text[]) AS posid, unnest($6::bigint[]) AS use_time,
                unnest($7::integer[]) AS cycle, unnest($8::bigint[]) AS created_at, unnest($9::text[]) AS request_hash,
                unnest($10::text[]) AS result_json, unnest($11::bigint[]) AS member_id, unnest($12::timestamptz[]) AS at),
        u AS (
            INSERT INTO card_uses (channel_id, use_no, usage_entry_id, member_card_id, posid, use_time, cycle, created_at,
                request_hash, result_json)
            SELECT channel_id, use_no, usage_entry_id, member_card_id, posid, use_time, cycle, created_at, request_hash, result_json FROM k
            RETURNING id, channel_id, use_no)
        {OutboxRows.UseEventsPostgres}
        """;

    /// <summary>Log rows, in the order they were decided.</summary>
    internal const string InsertLogSql = """
        INSERT INTO card_use_log (usage_entry_id, kind, use_no, posid, channel_id, at, has_used_num_after)
        SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::integer[]),
            unnest($6::bigint[]), unnest($7::integer[])
        """;

    /// <summary>Each changed entry's new counts; <c>id = ANY</c> keeps the plan an index lookup.</summary>
    internal const string UpdateEntriesSql = """
        UPDATE usage_entries AS e SET has_used_num = u.has_used_num, last_cycle = u.last_cycle,
            last_cycle_used = u.last_cycle_used, posid = u.posid, lock_version = u.lock_version
        FROM (SELECT unnest($1::text[]) AS id, unnest($2::integer[]) AS has_used_num, unnest($3::integer[]) AS last_cycle,
                unnest($4::integer[]) AS last_cycle_used, unnest($5::text[]) AS posid, unnest($6::integer[]) AS lock_version) AS u
        WHERE e.id = u.id AND e.id = ANY($1)
        """;

    public async Task<CardUseBatchState> ReadAsync(DbConnection connection, IReadOnlyList<CardUseCall> batch, DateTimeOffset now, CancellationToken ct)
    {
        var targets = new Dictionary<(string, string), UseTarget>();
        var earlier = new Dictionary<(int, string), KeptAnswer>();
        await using (var read = Batch(connection,
            Begin(),
            Command(LockTargetsSql, [batch.Select(c => c.Request.CardRef).ToArray(), batch.Select(c => c.Request.CardProductId).ToArray()]),
            Command(EarlierUsesSql, [batch.Select(c => c.ChannelId).ToArray(), batch.Select(c => c.Request.UseNo).ToArray()])))
        await using (var r = await read.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var target = UseTargets.Read(r);
                targets[(target.Entry.MemberCardId, target.Entry.CardProductId)] = target;
            }
            await r.NextResultAsync(ct);
            while (await r.ReadAsync(ct))
                earlier[(r.GetInt32(0), r.GetString(1))] = new KeptAnswer(r.GetString(2), r.GetString(3));
        }
        var older = CardUseDecider.OlderCycles(batch, targets, now.ToUnixTimeMilliseconds());
        var counts = new Dictionary<(string, int), int>();
        if (older.Count > 0)
        {
            await using var count = Batch(connection,
                Command(OlderCycleCountsSql, [older.Select(o => o.EntryId).ToArray(), older.Select(o => o.Cycle).ToArray()]));
            await using var r = await count.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                counts[(r.GetString(0), r.GetInt32(1))] = r.GetInt32(2);
        }
        return new CardUseBatchState(earlier, targets, counts);
    }

    public async Task WriteAsync(DbConnection connection, CardUseBatchPlan plan, CancellationToken ct)
    {
        var (uses, log, entries, events) = (plan.Uses, plan.Log, plan.Changed, plan.Events);
        await using var write = Batch(connection,
            uses.Count == 0 ? null : Command(InsertUsesSql, [uses.Select(u => u.ChannelId).ToArray(), uses.Select(u => u.UseNo).ToArray(),
                uses.Select(u => u.UsageEntryId).ToArray(), uses.Select(u => u.MemberCardId).ToArray(), uses.Select(u => u.Posid).ToArray(),
                uses.Select(u => u.UseTime).ToArray(), uses.Select(u => u.Cycle).ToArray(), uses.Select(u => u.CreatedAt).ToArray(),
                uses.Select(u => u.RequestHash).ToArray(), uses.Select(u => u.ResultJson).ToArray(),
                events.Select(e => e.MemberId).ToArray(), events.Select(e => e.At).ToArray()]),
            log.Count == 0 ? null : InsertLog(log),
            entries.Count == 0 ? null : UpdateEntries(entries),
            Commit());
        await write.ExecuteNonQueryAsync(ct); // reads every statement's result: an error in any throws here
    }

    internal static NpgsqlBatchCommand InsertLog(List<CardUseLog> log) => Command(InsertLogSql, [log.Select(l => l.UsageEntryId).ToArray(),
        log.Select(l => l.Kind).ToArray(), log.Select(l => l.UseNo).ToArray(), log.Select(l => l.Posid).ToArray(),
        log.Select(l => l.ChannelId).ToArray(), log.Select(l => l.At).ToArray(), log.Select(l => l.HasUsedNumAfter).ToArray()]);

    internal static NpgsqlBatchCommand UpdateEntries(List<UsageEntry> entries) => Command(UpdateEntriesSql, [entries.Select(e => e.Id).ToArray(),
        entries.Select(e => e.HasUsedNum).ToArray(), entries.Select(e => e.LastCycle).ToArray(), entries.Select(e => e.LastCycleUsed).ToArray(),
        entries.Select(e => e.Posid).ToArray(), entries.Select(e => e.LockVersion).ToArray()]);
}
