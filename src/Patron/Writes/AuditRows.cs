using System.Data.Common;
using Npgsql;
using Patron.Console;
using Patron.Events;

namespace Patron.Writes;

/// <summary>
/// The audit rows a write plan carries for an operator's change, inserted by the write's store in
/// the write's own transaction, so that a change is never without its audit line, nor the reverse;
/// each line's event goes to the outbox in the same statement.
/// </summary>
public static class AuditRows
{
    public const string InsertPostgresSql = """
        WITH a AS (INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after)
            SELECT unnest($1::timestamptz[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[]),
                unnest($6::text[]), unnest($7::text[])
            RETURNING 1)
        INSERT INTO outbox_events (type, member_id, at, data)
        SELECT unnest($8::text[]), unnest($9::bigint[]), unnest($1::timestamptz[]), unnest($10::text[])
        """;

    private const string InsertSqliteSql = "INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7)";

    /// <summary>PostgreSQL: the rows as one statement of the write batch; null when there are none.</summary>
    public static NpgsqlBatchCommand? Postgres(List<AuditEntry> audits)
    {
        if (audits.Count == 0)
            return null;
        var events = audits.Select(OutboxEvents.OfAudit).ToList();
        return PostgresSql.Command(InsertPostgresSql,
            [audits.Select(a => a.At).ToArray(), audits.Select(a => a.Actor).ToArray(), audits.Select(a => a.Action).ToArray(),
                audits.Select(a => a.Entity).ToArray(), audits.Select(a => a.EntityId).ToArray(), audits.Select(a => a.Before).ToArray(),
                audits.Select(a => a.After).ToArray(), events.Select(e => e.Type).ToArray(), events.Select(e => e.MemberId).ToArray(),
                events.Select(e => e.Data).ToArray()]);
    }

    /// <summary>SQLite: the rows a statement at a time, inside the batch's transaction.</summary>
    public static async Task WriteSqliteAsync(DbConnection connection, List<AuditEntry> audits, CancellationToken ct)
    {
        if (audits.Count == 0)
            return;
        var insert = SqliteSql.Prepare(connection, InsertSqliteSql, 7);
        foreach (var a in audits)
            await insert.Bind([a.At, a.Actor, a.Action, a.Entity, a.EntityId, a.Before, a.After]).ExecuteNonQueryAsync(ct);
        await OutboxRows.WriteSqliteAsync(connection, audits.Select(OutboxEvents.OfAudit).ToList(), ct);
    }
}
