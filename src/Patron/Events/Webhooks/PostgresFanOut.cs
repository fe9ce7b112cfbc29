using Npgsql;

namespace Patron.Events.Webhooks;

/// <summary>PostgreSQL's fan-out: the deliveries made from the outbox by the dispatchers, not in the writes (docs/events.md).</summary>
public sealed partial class PostgresDispatchStore
{
    /// <summary>
    /// Locks the fan-out's mark for one dispatcher at a time; another finds it taken and leaves
    /// the work to the one that holds it.
    /// </summary>
    public const string FanOutMarkSql = "SELECT 1 FROM outbox_fanout FOR UPDATE SKIP LOCKED";

    /// <summary>
    /// The events <c>e</c> no fan-out has taken yet: from a transaction at or above the mark, not
    /// visible in the last fan-out's snapshot; none while no subscriber is enabled.
    /// </summary>
    private const string NotTakenSql = """
        e.tx >= (SELECT below FROM outbox_fanout)
          AND ((SELECT seen FROM outbox_fanout) IS NULL OR NOT pg_visible_in_snapshot(e.tx::text::xid8, (SELECT seen FROM outbox_fanout)))
          AND EXISTS (SELECT 1 FROM webhooks WHERE enabled)
        """;

    /// <summary>
    /// Set for the fan-out's transaction and the lag's read: the only way left to the events is the
    /// bitmap scan of their transaction ids' index, whatever the statistics say. Taken while the
    /// outbox was smaller, they had the planner read all 215,000 events of a fresh table for 7,000
    /// new ones; and it would walk the whole key in id order to save sorting the few it keeps.
    /// </summary>
    public const string FanOutPlanSql = "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off";

    /// <summary>
    /// A fan-out that made this many deliveries refreshes the table's statistics: a backlog grows
    /// far quicker than autovacuum looks, and with statistics from a nearly empty table the settling
    /// statement took every pending delivery (190,000) to find its 128, 120 ms a pass.
    /// </summary>
    public const int AnalyzeAfter = 10_000;

    /// <summary>
    /// The deliveries of every event visible now that the last fan-out did not see: from a
    /// transaction at or above the mark and not visible in the last fan-out's snapshot. Then the
    /// mark moves up to the oldest transaction still running, and this snapshot is kept. Every
    /// transaction below the mark has ended, so its events were all seen, and none can come
    /// later: unlike a cursor over event ids, this loses no event committed after a later one. So
    /// each event is taken by exactly one fan-out, and a subscription changed between two takes
    /// the events of the second. A member's events keep their order: its writes hold its row until
    /// they commit, so a snapshot that sees one sees those before it, and each statement numbers its
    /// deliveries in event order. With no subscriber enabled it reads no event, and only moves on.
    /// The statement's snapshot is taken after the mark's lock: it reads the previous holder's mark.
    /// </summary>
    public const string FanOutSql = $"""
        WITH made AS (
            INSERT INTO webhook_deliveries (event_id, webhook_id, member_id, state, attempts, due_at, created_at)
            SELECT e.id, w.id, e.member_id, 'P', 0, e.at, e.at
            FROM outbox_events e JOIN webhooks w
                ON w.enabled AND (e.type = ANY (string_to_array(w.events, ' ')) OR '*' = ANY (string_to_array(w.events, ' ')))
            WHERE {NotTakenSql}
            ORDER BY e.id, w.id
            ON CONFLICT DO NOTHING
            RETURNING 1)
        UPDATE outbox_fanout SET below = greatest(below, pg_snapshot_xmin(pg_current_snapshot())::text::bigint), seen = pg_current_snapshot()
        RETURNING (SELECT count(*) FROM made)::integer
        """;

    /// <summary>The events the next fan-out would take, as <see cref="FanOutSql"/> picks them.</summary>
    public const string OldestNotFannedOutSql = $"SELECT min(e.at) FROM outbox_events e WHERE {NotTakenSql}";

    public async Task<int> FanOutAsync(CancellationToken ct)
    {
        await using var connection = await source.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var mark = new NpgsqlCommand(FanOutMarkSql, connection, tx))
            if (await mark.ExecuteScalarAsync(ct) is null)
                return 0; // another dispatcher is at it
        await using (var plan = new NpgsqlCommand(FanOutPlanSql, connection, tx))
            await plan.ExecuteNonQueryAsync(ct);
        await using var fanOut = new NpgsqlCommand(FanOutSql, connection, tx);
        var made = (int)(await fanOut.ExecuteScalarAsync(ct))!;
        await tx.CommitAsync(ct);
        if (made >= AnalyzeAfter)
        {
            await using var analyze = new NpgsqlCommand("ANALYZE webhook_deliveries", connection);
            await analyze.ExecuteNonQueryAsync(ct);
        }
        return made;
    }

    public async Task<DateTimeOffset?> OldestNotFannedOutAsync(CancellationToken ct)
    {
        await using var connection = await source.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var plan = new NpgsqlCommand(FanOutPlanSql, connection, tx))
            await plan.ExecuteNonQueryAsync(ct);
        await using var oldest = new NpgsqlCommand(OldestNotFannedOutSql, connection, tx);
        var at = await oldest.ExecuteScalarAsync(ct);
        await tx.CommitAsync(ct);
        return at is DateTime utc ? new DateTimeOffset(utc, TimeSpan.Zero) : null;
    }
}
