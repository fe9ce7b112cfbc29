using System.Data.Common;
using Patron.Events;
using Patron.Writes;
using static Patron.Writes.SqliteSql;

namespace Patron.Cards;

/// <summary>Card uses on SQLite: the same reads and writes as <see cref="PostgresCardUseStore"/>, a row at a time.</summary>
public sealed class SqliteCardUseStore : IWriteStore<CardUseCall, CardUseBatchState, CardUseBatchPlan>
{
    /// <summary>Entries e with their cards c and sales s; the caller adds which entries.</summary>
    internal const string SelectTargets = $"""
        SELECT {UseTargets.Columns}
        FROM usage_entries e JOIN member_cards c ON c.id = e.member_card_id JOIN card_sales s ON s.id = c.sale_id
        """;

    private const string TargetSql = $"""
        {SelectTargets}
        WHERE e.member_card_id = $1 AND e.card_product_id = $2
        """;

    private const string OlderCycleCountSql = "SELECT count(*) FROM card_uses WHERE usage_entry_id = $1 AND cycle = $2 AND cancelled_at IS NULL";

    internal const string InsertUseSql = """
        INSERT INTO card_uses (channel_id, use_no, usage_entry_id, member_card_id, posid, use_time, cycle, created_at, request_hash, result_json)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING id
        """;

    internal const string InsertLogSql = """
        INSERT INTO card_use_log (usage_entry_id, kind, use_no, posid, channel_id, at, has_used_num_after) VALUES ($1, $2, $3, $4, $5, $6, $7)
        """;

    internal const string UpdateEntrySql = """
        UPDATE usage_entries SET has_used_num = $2, last_cycle = $3, last_cycle_used = $4, posid = $5, lock_version = $6 WHERE id = $1
        """;

    public async Task<CardUseBatchState> ReadAsync(DbConnection connection, IReadOnlyList<CardUseCall> batch, DateTimeOffset now, CancellationToken ct)
    {
        await BeginAsync(connection, ct);
        var targets = new Dictionary<(string, string), UseTarget>();
        var find = Prepare(connection, TargetSql, 2);
        foreach (var key in batch.Select(c => (c.Request.CardRef, c.Request.CardProductId)).Distinct())
        {
            await using var r = await find.Bind([key.CardRef, key.CardProductId]).ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
                targets[key] = UseTargets.Read(r);
        }
        var earlier = await EarlierUsesAsync(connection, batch.Select(c => (c.ChannelId, c.Request.UseNo)), ct);
        var counts = new Dictionary<(string, int), int>();
        var count = Prepare(connection, OlderCycleCountSql, 2);
        foreach (var older in CardUseDecider.OlderCycles(batch, targets, now.ToUnixTimeMilliseconds()))
            counts[older] = Convert.ToInt32(await count.Bind([older.EntryId, older.Cycle]).ExecuteScalarAsync(ct));
        return new CardUseBatchState(earlier, targets, counts);
    }

    public async Task WriteAsync(DbConnection connection, CardUseBatchPlan plan, CancellationToken ct)
    {
        var insert = Prepare(connection, InsertUseSql, 10);
        for (var i = 0; i < plan.Uses.Count; i++)
        {
            var u = plan.Uses[i];
            plan.Events[i].UseId = (long)(await insert.Bind([u.ChannelId, u.UseNo, u.UsageEntryId, u.MemberCardId, u.Posid, u.UseTime, u.Cycle,
                u.CreatedAt, u.RequestHash, u.ResultJson]).ExecuteScalarAsync(ct))!;
        }
        await WriteLogAsync(connection, plan.Log, ct);
        await UpdateEntriesAsync(connection, plan.Changed, ct);
        await OutboxRows.WriteSqliteAsync(connection, plan.Events, ct);
        await CommitAsync(connection, ct);
    }

    /// <summary>The answers kept under these (channel, useNo) keys.</summary>
    internal static async Task<Dictionary<(int, string), KeptAnswer>> EarlierUsesAsync(DbConnection connection,
        IEnumerable<(int Channel, string UseNo)> keys, CancellationToken ct)
    {
        var earlier = new Dictionary<(int, string), KeptAnswer>();
        var find = Prepare(connection, "SELECT request_hash, result_json FROM card_uses WHERE channel_id = $1 AND use_no = $2", 2);
        foreach (var key in keys.Distinct())
        {
            await using var r = await find.Bind([key.Channel, key.UseNo]).ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
                earlier[key] = new KeptAnswer(r.GetString(0), r.GetString(1));
        }
        return earlier;
    }

    internal static async Task WriteLogAsync(DbConnection connection, List<CardUseLog> log, CancellationToken ct)
    {
        var insert = Prepare(connection, InsertLogSql, 7);
        foreach (var l in log)
            await insert.Bind([l.UsageEntryId, l.Kind, l.UseNo, l.Posid, l.ChannelId, l.At, l.HasUsedNumAfter]).ExecuteNonQueryAsync(ct);
    }

    internal static async Task UpdateEntriesAsync(DbConnection connection, List<UsageEntry> entries, CancellationToken ct)
    {
        var update = Prepare(connection, UpdateEntrySql, 6);
        foreach (var e in entries)
            await update.Bind([e.Id, e.HasUsedNum, e.LastCycle, e.LastCycleUsed, e.Posid, e.LockVersion]).ExecuteNonQueryAsync(ct);
    }
}
