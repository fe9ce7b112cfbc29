using Microsoft.EntityFrameworkCore;
using Npgsql;
using Patron.Data;

namespace Patron.Events.Webhooks;

/// <summary>A delivery this instance has claimed: it alone sends it until <see cref="LeasedUntil"/>.</summary>
/// <remarks>Deliveries of one subscriber and member (<see cref="MemberId"/>) form a queue, sent in id order; those with no member stand alone.</remarks>
public sealed record ClaimedDelivery(long Id, long EventId, int WebhookId, long? MemberId, int Attempts, DateTimeOffset DueAt, DateTimeOffset LeasedUntil);

/// <summary>The steps of a dispatcher pass that differ between the backends: claiming deliveries, and settling them.</summary>
public interface IDispatchStore
{
    /// <summary>
    /// Makes the deliveries of the events written since the last call, one per enabled subscriber
    /// that wants the event's type, due at the event's time, numbered in the order of the events.
    /// Returns how many it made. Where the writes make them themselves, it has nothing to do.
    /// </summary>
    Task<int> FanOutAsync(CancellationToken ct);

    /// <summary>When the oldest event whose deliveries are not made yet was written: the outbox lags by that much at least.</summary>
    Task<DateTimeOffset?> OldestNotFannedOutAsync(CancellationToken ct);

    /// <summary>
    /// Leases up to <paramref name="limit"/> due pending deliveries of enabled webhooks but those in
    /// <paramref name="skip"/>, in id order. A delivery is taken only when no earlier pending
    /// delivery of the same webhook and member waits: one not due yet (a retry), or one leased. So
    /// a claim may take the head of a member's queue and the deliveries right behind it, which the
    /// pass then sends one after another; it never takes a delivery whose predecessor another pass holds.
    /// </summary>
    Task<List<ClaimedDelivery>> ClaimAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, IReadOnlyCollection<int> skip, CancellationToken ct);

    /// <summary>
    /// Records a pass's attempts and moves their deliveries on, and gives back the leases of the
    /// claimed deliveries it did not send (<paramref name="unsent"/>: behind a failed attempt in
    /// their queue), in one transaction; each only if it is still pending under this pass's lease:
    /// an operator's resend or another instance's claim after the lease ran out has taken it over
    /// otherwise. Returns the deliveries it settled.
    /// </summary>
    Task<HashSet<long>> SettleAsync(IReadOnlyList<DeliverySettling> pass, IReadOnlyList<ClaimedDelivery> unsent, CancellationToken ct);
}

/// <summary>One sent delivery as its pass settles it: the attempt, and what it does to the delivery.</summary>
public sealed record DeliverySettling(ClaimedDelivery Claim, WebhookAttempt Attempt, DeliveryOutcome Outcome, string? Error);

/// <summary>
/// PostgreSQL: instances share the tables. Claims skip rows another instance holds, and claim by
/// state, not by an id cursor, so a delivery committed after a later one is still found. Each
/// statement updates the rows it picked by <c>id = ANY</c>: a join to the picked rows may be
/// planned as a hash join over the whole table, whose cost grows with every delivery ever made.
/// </summary>
public sealed partial class PostgresDispatchStore(NpgsqlDataSource source) : IDispatchStore
{
    /// <summary>
    /// Run first in the claim's transaction. The plan setting leaves the claim's <c>ORDER BY id
    /// LIMIT</c> one plan: the walk of the pending deliveries' index in id order, which stops once
    /// it has its batch. With the statistics of a table that was small when last analyzed (a backlog
    /// grows far quicker than autovacuum looks), the planner took every pending delivery of the
    /// webhook, checked each, and sorted them: 0.3–0.5 s a claim with 150,000 pending, against 6 ms
    /// for the walk. The lock makes instances claim one at a time: a claim takes a delivery when
    /// the earlier ones of its queue are free, so it must see the leases of every claim before it;
    /// a claim running beside another would see its predecessors free while the other takes them.
    /// </summary>
    /// <remarks>The lock's key is "PatronWC" in ASCII (0x5061_7472_6F6E_5743); the start-up lock's is "Patron".</remarks>
    public const string ClaimPlanSql = "SET LOCAL enable_sort = off; SELECT pg_advisory_xact_lock(5792038630619764547)";

    /// <summary>
    /// The walk (<c>c</c>) passes over deliveries behind a waiting one, so that a blocked queue does
    /// not fill the batch. It also skips rows another transaction holds (an operator's resend,
    /// mid-commit), which it cannot tell from free ones; so the claim keeps (<c>t</c>) only the
    /// deliveries whose every earlier pending one in their queue it has taken too.
    /// </summary>
    public const string ClaimSql = """
        WITH c AS (
            SELECT d.id, d.webhook_id, d.member_id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.enabled
            WHERE d.state = 'P' AND d.due_at <= $1 AND (d.leased_until IS NULL OR d.leased_until <= $1) AND NOT (d.webhook_id = ANY ($4))
              AND (d.member_id IS NULL OR NOT EXISTS (
                  SELECT 1 FROM webhook_deliveries p
                  WHERE p.state = 'P' AND p.webhook_id = d.webhook_id AND p.member_id = d.member_id AND p.id < d.id
                    AND (p.due_at > $1 OR p.leased_until > $1)))
            ORDER BY d.id LIMIT $3
            FOR UPDATE OF d SKIP LOCKED),
        t AS (
            SELECT c.id FROM c
            WHERE c.member_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM webhook_deliveries p
                WHERE p.state = 'P' AND p.webhook_id = c.webhook_id AND p.member_id = c.member_id AND p.id < c.id
                  AND p.id <> ALL (ARRAY(SELECT id FROM c))))
        UPDATE webhook_deliveries d SET leased_until = $2 WHERE d.id = ANY (ARRAY(SELECT id FROM t))
        RETURNING d.id, d.event_id, d.webhook_id, d.member_id, d.attempts, d.due_at
        """;

    /// <summary>
    /// A pass in one statement: the deliveries still under this pass's lease are settled, their
    /// attempts inserted, a 410's subscriber disabled, and the unsent given back.
    /// </summary>
    public const string SettleSql = """
        WITH s AS (
            SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::integer[], $5::timestamptz[], $6::timestamptz[],
                $7::integer[], $8::text[], $9::boolean[]) AS s(id, leased, state, attempts, due_at, done_at, status, error, gone)),
        u AS (
            UPDATE webhook_deliveries d SET state = s.state, attempts = s.attempts, due_at = s.due_at, done_at = s.done_at,
                leased_until = NULL, last_status = s.status, last_error = s.error
            FROM s WHERE d.id = ANY ($1) AND d.id = s.id AND d.state = 'P' AND d.leased_until = s.leased
            RETURNING d.id, d.webhook_id, s.gone),
        a AS (
            INSERT INTO webhook_attempts (delivery_id, at, status, duration_ms, answer, error)
            SELECT x.delivery_id, x.at, x.status, x.duration_ms, x.answer, x.error
            FROM unnest($1::bigint[], $10::timestamptz[], $7::integer[], $11::integer[], $12::text[], $13::text[])
                AS x(delivery_id, at, status, duration_ms, answer, error)
            WHERE x.delivery_id IN (SELECT id FROM u)),
        g AS (
            UPDATE webhooks w SET enabled = false, disabled_reason = '410 Gone' WHERE w.id IN (SELECT webhook_id FROM u WHERE gone)),
        r AS (
            UPDATE webhook_deliveries d SET leased_until = NULL FROM unnest($14::bigint[], $15::timestamptz[]) AS r(id, leased)
            WHERE d.id = ANY ($14) AND d.id = r.id AND d.state = 'P' AND d.leased_until = r.leased)
        SELECT id FROM u
        """;

    public async Task<HashSet<long>> SettleAsync(IReadOnlyList<DeliverySettling> pass, IReadOnlyList<ClaimedDelivery> unsent, CancellationToken ct)
    {
        await using var connection = await source.OpenConnectionAsync(ct);
        await using var settle = new NpgsqlCommand(SettleSql, connection);
        object[] values =
        [
            pass.Select(p => p.Claim.Id).ToArray(), pass.Select(p => p.Claim.LeasedUntil.ToUniversalTime()).ToArray(),
            pass.Select(p => p.Outcome.State).ToArray(), pass.Select(p => p.Outcome.Attempts).ToArray(),
            pass.Select(p => p.Outcome.DueAt.ToUniversalTime()).ToArray(), pass.Select(p => p.Outcome.DoneAt?.ToUniversalTime()).ToArray(),
            pass.Select(p => p.Attempt.Status).ToArray(), pass.Select(p => p.Error).ToArray(), pass.Select(p => p.Outcome.DisablesWebhook).ToArray(),
            pass.Select(p => p.Attempt.At.ToUniversalTime()).ToArray(), pass.Select(p => p.Attempt.DurationMs).ToArray(),
            pass.Select(p => p.Attempt.Answer).ToArray(), pass.Select(p => p.Attempt.Error).ToArray(),
            unsent.Select(c => c.Id).ToArray(), unsent.Select(c => c.LeasedUntil.ToUniversalTime()).ToArray(),
        ];
        foreach (var value in values)
            settle.Parameters.Add(new NpgsqlParameter { Value = value });
        var settled = new HashSet<long>();
        await using var reader = await settle.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            settled.Add(reader.GetInt64(0));
        return settled;
    }

    public async Task<List<ClaimedDelivery>> ClaimAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, IReadOnlyCollection<int> skip, CancellationToken ct)
    {
        await using var connection = await source.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var plan = new NpgsqlCommand(ClaimPlanSql, connection, tx))
            await plan.ExecuteNonQueryAsync(ct);
        await using var claim = new NpgsqlCommand(ClaimSql, connection, tx)
        {
            Parameters =
            {
                new() { Value = now.ToUniversalTime() }, new() { Value = leaseUntil.ToUniversalTime() }, new() { Value = limit },
                new() { Value = skip.ToArray() },
            },
        };
        var claimed = new List<ClaimedDelivery>();
        await using (var reader = await claim.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                claimed.Add(new(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt64(3),
                    reader.GetInt32(4), reader.GetFieldValue<DateTimeOffset>(5), leaseUntil.ToUniversalTime()));
        await tx.CommitAsync(ct);
        return claimed;
    }
}

/// <summary>
/// SQLite: one writer at a time, so each step is an immediate transaction (it takes the write
/// lock at its start) and needs no row locks; EF writes the instants in the file's own encoding.
/// </summary>
public sealed class SqliteDispatchStore(IServiceScopeFactory scopes) : IDispatchStore
{
    /// <summary>
    /// A trigger makes each event's deliveries in its write (migration DeliveriesTrigger). With one
    /// writer at a time, events commit in id order, and a fan-out would only queue for the same
    /// write lock as the writes.
    /// </summary>
    public Task<int> FanOutAsync(CancellationToken ct) => Task.FromResult(0);

    public Task<DateTimeOffset?> OldestNotFannedOutAsync(CancellationToken ct) => Task.FromResult<DateTimeOffset?>(null);

    public async Task<HashSet<long>> SettleAsync(IReadOnlyList<DeliverySettling> pass, IReadOnlyList<ClaimedDelivery> unsent, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var settled = new HashSet<long>();
        foreach (var (claim, attempt, outcome, error) in pass)
        {
            var moved = await db.Set<WebhookDelivery>()
                .Where(x => x.Id == claim.Id && x.State == WebhookDelivery.Pending && x.LeasedUntil == claim.LeasedUntil)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.State, outcome.State).SetProperty(x => x.Attempts, outcome.Attempts)
                    .SetProperty(x => x.DueAt, outcome.DueAt).SetProperty(x => x.DoneAt, outcome.DoneAt)
                    .SetProperty(x => x.LeasedUntil, (DateTimeOffset?)null).SetProperty(x => x.LastStatus, attempt.Status)
                    .SetProperty(x => x.LastError, error), ct);
            if (moved == 0)
                continue;
            settled.Add(claim.Id);
            db.Add(attempt);
            if (outcome.DisablesWebhook)
                await db.Set<Webhook>().Where(w => w.Id == claim.WebhookId)
                    .ExecuteUpdateAsync(s => s.SetProperty(w => w.Enabled, false).SetProperty(w => w.DisabledReason, "410 Gone"), ct);
        }
        foreach (var claim in unsent)
            await db.Set<WebhookDelivery>().Where(x => x.Id == claim.Id && x.State == WebhookDelivery.Pending && x.LeasedUntil == claim.LeasedUntil)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LeasedUntil, (DateTimeOffset?)null), ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return settled;
    }

    public async Task<List<ClaimedDelivery>> ClaimAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, IReadOnlyCollection<int> skip, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var deliveries = db.Set<WebhookDelivery>();
        if (!await deliveries.AnyAsync(d => d.State == WebhookDelivery.Pending && d.DueAt <= now, ct))
            return [];
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var claimed = await deliveries.AsNoTracking()
            .Where(d => d.State == WebhookDelivery.Pending && d.DueAt <= now && (d.LeasedUntil == null || d.LeasedUntil <= now) && !skip.Contains(d.WebhookId)
                && db.Set<Webhook>().Any(w => w.Id == d.WebhookId && w.Enabled)
                && (d.MemberId == null || !deliveries.Any(p => p.State == WebhookDelivery.Pending && p.WebhookId == d.WebhookId
                    && p.MemberId == d.MemberId && p.Id < d.Id && (p.DueAt > now || p.LeasedUntil > now))))
            .OrderBy(d => d.Id).Take(limit)
            .Select(d => new ClaimedDelivery(d.Id, d.EventId, d.WebhookId, d.MemberId, d.Attempts, d.DueAt, leaseUntil)).ToListAsync(ct);
        if (claimed.Count > 0)
        {
            var ids = claimed.Select(c => c.Id).ToList();
            await deliveries.Where(d => ids.Contains(d.Id)).ExecuteUpdateAsync(s => s.SetProperty(d => d.LeasedUntil, leaseUntil), ct);
        }
        await tx.CommitAsync(ct);
        return claimed;
    }
}
