using Npgsql;

namespace Patron.Events.Webhooks;

/// <summary>PostgreSQL's fan-out: the deliveries made from the outbox by the dispatchers, not in the writes (docs/events.md).</summary>
public sealed partial class PostgresDispatchStore
{
    /// <summary>
    /// Locks the fan-out's mark for one dispatcher at a time; another finds it taken and leaves
    /// the work to the one that holds it.
    /// </summary>
    public const string FanOutMarkSql = "SELECT below, seen::text FROM outbox_fanout FOR UPDATE SKIP LOCKED";

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
    /// transaction at or above the mark ($1) and not visible in the last fan-out's snapshot ($2).
    /// Then the mark moves up to the oldest transaction still running, and this snapshot is kept.
    /// Every transaction below the mark has ended, so its events were all seen, and none can come
    /// later: unlike a cursor over event ids, this loses no event committed after a later one. So
    /// each event is taken by exactly one fan-out, and a subscription changed between two takes
    /// the events of the second. A member's events keep their order: its writes hold its row until
    /// they commit, so a snapshot that sees one sees those before it, and each statement numbers its
    /// deliveries in event order. With no subscriber enabled it reads no event, and only moves on.
    /// </summary>
    public const string FanOutSql = """
        WITH made AS (
            INSERT INTO webhook_deliveries (event_id, webhook_id, member_id, state, attempts, due_at, created_at)
            SELECT e.id, w.id, e.member_id, 'P', 0, e.at, e.at
            FROM outbox_events e JOIN webhooks w
                ON w.enabled AND (e.type = ANY (string_to_array(w.events, ' ')) OR '*' = ANY (string_to_array(w.events, ' ')))
            WHERE e.tx >= $1 AND ($2::text IS NULL OR NOT pg_visible_in_snapshot(e.tx::text::xid8, $2::text::pg_snapshot))
              AND EXISTS (SELECT 1 FROM webhooks WHERE enabled)
            ORDER BY e.id, w.id
            ON CONFLICT DO NOTHING
            RETURNING 1)
        UPDATE outbox_fanout SET below = greatest(below, pg_snapshot_xmin(pg_current_snapshot())::text::bigint), seen = pg_current_snapshot()
        RETURNING (SELECT count(*) FROM made)::integer
        """;

    /// <summary>The events the next fan-out would take, as <see cref="FanOutSql"/> picks them.</summary>
    public const string OldestNotFannedOutSql = """
        SELECT min(e.at) FROM outbox_events e
        WHERE e.tx >= (SELECT below FROM outbox_fanout)
          AND ((SELECT seen FROM outbox_fanout) IS NULL OR NOT pg_visible_in_snapshot(e.tx::text::xid8, (SELECT seen FROM outbox_fanout)))
          AND EXISTS (SELECT 1 FROM webhooks WHERE enabled)
        """;

    public async Task<int> FanOutAsync(CancellationToken ct)
    {
        await using var connection = await source.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        long below;
        string? seen;
        await using (var mark = new NpgsqlCommand(FanOutMarkSql, connection, tx))
        await using (var reader = await mark.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct))
                return 0; // another dispatcher is at it
            below = reader.GetInt64(0);
            seen = reader.IsDBNull(1) ? null : reader.GetString(1);
        }
        await using (var plan = new NpgsqlCommand(FanOutPlanSql, connection, tx))
            await plan.ExecuteNonQueryAsync(ct);
        await using var fanOut = new NpgsqlCommand(FanOutSql, connection, tx)
        {
            Parameters = { new() { Value = below }, new() { Value = (object?)seen ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text } },
        };
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
