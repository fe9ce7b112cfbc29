using System.Data.Common;
using Patron.Events;
using Patron.Writes;
using static Patron.Writes.PostgresSql;

namespace Patron.Cards;

/// <summary>Cancels on PostgreSQL: the uses' entries locked in id order, as uses lock them, then the uses and their entries' live cycles.</summary>
public sealed class PostgresCardCancelStore : IWriteStore<CardCancelCall, CardCancelBatchState, CardCancelBatchPlan>
{
    /// <summary>The ids of the entries the batch's uses belong to, each use looked up on its own.</summary>
    private const string EntryIds = """
        ARRAY(SELECT u.usage_entry_id FROM (SELECT unnest($1::integer[]) AS channel_id, unnest($2::text[]) AS use_no) AS k
            CROSS JOIN LATERAL (SELECT usage_entry_id FROM card_uses AS c WHERE c.channel_id = k.channel_id AND c.use_no = k.use_no LIMIT 1) AS u)
        """;

    internal const string LockTargetsSql = $"""
        {PostgresCardUseStore.SelectTargets}
        WHERE e.id = ANY({EntryIds})
        ORDER BY e.id
        FOR UPDATE OF e
        """;

    internal const string UsesSql = $"""
        SELECT u.* FROM (SELECT unnest($1::integer[]) AS channel_id, unnest($2::text[]) AS use_no) AS k
        CROSS JOIN LATERAL (SELECT {CardCancels.UseColumns} FROM card_uses AS c
            WHERE c.channel_id = k.channel_id AND c.use_no = k.use_no LIMIT 1) AS u
        """;

    internal const string LiveCyclesSql = $"SELECT usage_entry_id, cycle FROM card_uses WHERE usage_entry_id = ANY({EntryIds}) AND cancelled_at IS NULL";

    internal const string CancelUsesSql = """
        UPDATE card_uses AS c SET cancelled_at = u.cancelled_at, cancel_result_json = u.json
        FROM (SELECT unnest($1::bigint[]) AS id, unnest($2::bigint[]) AS cancelled_at, unnest($3::text[]) AS json) AS u
        WHERE c.id = u.id AND c.id = ANY($1)
        """;

    public async Task<CardCancelBatchState> ReadAsync(DbConnection connection, IReadOnlyList<CardCancelCall> batch, DateTimeOffset now, CancellationToken ct)
    {
        object?[] keys = [batch.Select(c => c.ChannelId).ToArray(), batch.Select(c => c.UseNo).ToArray()];
        await using var read = Batch(connection, Begin(), Command(LockTargetsSql, keys), Command(UsesSql, keys), Command(LiveCyclesSql, keys));
        await using var r = await read.ExecuteReaderAsync(ct);
        var targets = new Dictionary<string, UseTarget>();
        while (await r.ReadAsync(ct))
        {
            var target = UseTargets.Read(r);
            targets[target.Entry.Id] = target;
        }
        await r.NextResultAsync(ct);
        var uses = new Dictionary<(int, string), CancelTarget>();
        while (await r.ReadAsync(ct))
        {
            var use = CardCancels.ReadUse(r);
            uses[(use.ChannelId, use.UseNo)] = new CancelTarget(use, targets[use.UsageEntryId]);
        }
        await r.NextResultAsync(ct);
        var cycles = targets.Keys.ToDictionary(id => id, _ => new List<int>());
        while (await r.ReadAsync(ct))
            cycles[r.GetString(0)].Add(r.GetInt32(1));
        return new CardCancelBatchState(uses, cycles);
    }

    public async Task WriteAsync(DbConnection connection, CardCancelBatchPlan plan, CancellationToken ct)
    {
        var cancelled = plan.Cancelled;
        await using var write = Batch(connection,
            cancelled.Count == 0 ? null : Command(CancelUsesSql, [cancelled.Select(u => u.Id).ToArray(),
                cancelled.Select(u => u.CancelledAt!.Value).ToArray(), cancelled.Select(u => u.CancelResultJson).ToArray()]),
            plan.Log.Count == 0 ? null : PostgresCardUseStore.InsertLog(plan.Log),
            plan.Changed.Count == 0 ? null : PostgresCardUseStore.UpdateEntries(plan.Changed),
            AuditRows.Postgres(plan.Audits),
            OutboxRows.Postgres(plan.Events),
            Commit());
        await write.ExecuteNonQueryAsync(ct);
    }
}
