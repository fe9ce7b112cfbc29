using System.Data.Common;
using Npgsql;
using Patron.Console;

namespace Patron.Writes;

/// <summary>
/// The audit rows a write plan carries for an operator's change, inserted by the write's store in
/// the write's own transaction, so that a change is never without its audit line, nor the reverse.
/// </summary>
public static class AuditRows
{
    public const string InsertPostgresSql = """
        INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after)
        SELECT unnest($1::timestamptz[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[]),
            unnest($6::text[]), unnest($7::text[])
        """;

    private const string InsertSqliteSql = "INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7)";

    /// <summary>PostgreSQL: the rows as one statement of the write batch; null when there are none.</summary>
    public static NpgsqlBatchCommand? Postgres(List<AuditEntry> audits) => audits.Count == 0 ? null : PostgresSql.Command(InsertPostgresSql,
        [audits.Select(a => a.At).ToArray(), audits.Select(a => a.Actor).ToArray(), audits.Select(a => a.Action).ToArray(),
            audits.Select(a => a.Entity).ToArray(), audits.Select(a => a.EntityId).ToArray(), audits.Select(a => a.Before).ToArray(),
            audits.Select(a => a.After).ToArray()]);

    /// <summary>SQLite: the rows a statement at a time, inside the batch's transaction.</summary>
    public static async Task WriteSqliteAsync(DbConnection connection, List<AuditEntry> audits, CancellationToken ct)
    {
        if (audits.Count == 0)
            return;
        await using var insert = SqliteSql.Prepare(connection, InsertSqliteSql, 7);
        foreach (var a in audits)
            await insert.Bind([a.At, a.Actor, a.Action, a.Entity, a.EntityId, a.Before, a.After]).ExecuteNonQueryAsync(ct);
    }
}
