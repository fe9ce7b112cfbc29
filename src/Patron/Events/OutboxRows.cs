using System.Data.Common;
using Npgsql;
using Patron.Writes;

namespace Patron.Events;

/// <summary>
/// The outbox rows a write inserts in its own transaction: one statement per batch on PostgreSQL,
/// a prepared statement per row on SQLite, as the rest of each store. Their deliveries are made on
/// SQLite by a trigger in the same statement, on PostgreSQL by the dispatchers' fan-out after the
/// commit (<c>PostgresFanOut.cs</c>). Never a NOTIFY: it would take a database-wide lock at every
/// commit. The dispatcher polls instead.
/// </summary>
public static class OutboxRows
{
    public const string InsertPostgresSql = """
        INSERT INTO outbox_events (type, member_id, channel_id, at, data)
        SELECT unnest($1::text[]), unnest($2::bigint[]), unnest($3::integer[]), unnest($4::timestamptz[]), unnest($5::text[])
        """;

    /// <summary>
    /// PostgreSQL: the events of the ledger rows a CTE named <c>l</c> has just inserted: each row is
    /// a points.changed, and a level.changed too when it moved the level; in ledger order, so that
    /// a member's events are numbered as their rows are.
    /// </summary>
    public const string LedgerEventsPostgres = """
        INSERT INTO outbox_events (type, member_id, channel_id, at, ledger_id)
        SELECT t.type, l.member_id, l.channel_id, l.created_at, l.auto_id
        FROM l CROSS JOIN LATERAL (VALUES (1, 'points.changed'), (2, 'level.changed')) AS t(k, type)
        WHERE t.k = 1 OR l.level_before <> l.level_after
        ORDER BY l.auto_id, t.k
        """;

    /// <summary>SQLite: the same for one ledger row: $1 its id, $2 member, $3 channel, $4 time, $5 whether it moved the level.</summary>
    public const string LedgerEventsSqlite = """
        INSERT INTO outbox_events (type, member_id, channel_id, at, ledger_id)
        SELECT 'points.changed', $2, $3, $4, $1
        UNION ALL SELECT 'level.changed', $2, $3, $4, $1 WHERE $5
        """;

    /// <summary>An import's opening ledger rows' events, after the rows: $1 the import's bill number, $2 its time (an index).</summary>
    public const string ImportEventsSql = """
        INSERT INTO outbox_events (type, member_id, channel_id, at, ledger_id)
        SELECT 'points.changed', member_id, channel_id, created_at, auto_id FROM point_ledger
        WHERE created_at = $2 AND busi_bill_num = $1 AND busi_type = 'O' ORDER BY auto_id
        """;

    /// <summary>
    /// PostgreSQL: the card.used events of the uses a CTE named <c>u</c> has just inserted, each
    /// found by its (channel, useNo) in the uses' keys <c>k</c>, which carry its member and time.
    /// </summary>
    public const string UseEventsPostgres = """
        INSERT INTO outbox_events (type, member_id, channel_id, at, use_id)
        SELECT 'card.used', k.member_id, u.channel_id, k.at, u.id
        FROM u JOIN k ON k.channel_id = u.channel_id AND k.use_no = u.use_no
        ORDER BY u.id
        """;

    private const string InsertSqliteSql =
        "INSERT INTO outbox_events (type, member_id, channel_id, at, data, use_id) VALUES ($1, $2, $3, $4, $5, $6)";

    /// <summary>PostgreSQL: the events as one statement of the write batch; null when there are none.</summary>
    public static NpgsqlBatchCommand? Postgres(IReadOnlyList<OutboxEvent> events) => events.Count == 0 ? null : PostgresSql.Command(InsertPostgresSql,
        [events.Select(e => e.Type).ToArray(), events.Select(e => e.MemberId).ToArray(), events.Select(e => e.ChannelId).ToArray(),
            events.Select(e => e.At).ToArray(), events.Select(e => e.Data).ToArray()]);

    /// <summary>SQLite: the events a statement at a time, inside the batch's transaction.</summary>
    public static async Task WriteSqliteAsync(DbConnection connection, IReadOnlyList<OutboxEvent> events, CancellationToken ct)
    {
        if (events.Count == 0)
            return;
        var insert = SqliteSql.Prepare(connection, InsertSqliteSql, 6);
        foreach (var e in events)
            await insert.Bind([e.Type, e.MemberId, e.ChannelId, e.At, e.Data, e.UseId]).ExecuteNonQueryAsync(ct);
    }
}
