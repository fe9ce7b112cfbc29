using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

/// <summary>
/// The dispatcher's statements touch the rows they picked through an index, however many events
/// and deliveries the tables hold: a statement that joined its batch to a whole table by a hash
/// join would read every row ever written, once a batch, and take a share of the machine from the
/// writes that grows with the tables.
/// </summary>
public sealed class DispatcherPlanTestsOnPostgres() : PatronTest(Backend.Postgres)
{
    private const int Rows = 30_000;

    protected override bool LedgerRowsHaveTheirEvents => false; // it fills the outbox behind the service's back

    /// <summary>No dispatcher of the app's own fans out or claims beside the statements under test.</summary>
    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) => builder.UseSetting("Webhooks:Enabled", "false");

    /// <param name="pending">How many of the deliveries, the last ones, are pending: all of them for a backlog.</param>
    /// <param name="members">Whose the deliveries are, in turn: 500 members, or one member's backlog, which the claim takes a batch of.</param>
    /// <param name="pages">
    /// At most. A claim out of a backlog leases its whole batch of 40, each a new row version with
    /// its five index entries (some 800 pages); its walk to them reads some 160. Before the claim's
    /// plan setting, the planner sorted every pending delivery: 120,000 pages.
    /// </param>
    [Theory]
    [InlineData(nameof(PostgresDispatchStore.ClaimSql), 3, 150, 500)]
    [InlineData(nameof(PostgresDispatchStore.SettleSql), 3, 150, 500)]
    [InlineData(nameof(PostgresDispatchStore.ClaimSql), Rows, 1500, 500)]
    [InlineData(nameof(PostgresDispatchStore.ClaimSql), Rows, 1500, 1)]
    public async Task AStatementReadsAFewPagesOfFullTables(string statement, int pending, int pages, int members)
    {
        await using var connection = await App.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        // The planner's view of a busy outbox: statistics taken while the tables were empty, which
        // autovacuum refreshes only now and then as they grow.
        foreach (var table in new[] { "outbox_events", "webhook_deliveries" })
        {
            await PlanProbe.ExecuteAsync(connection, $"ALTER TABLE {table} SET (autovacuum_enabled = false)");
            await PlanProbe.ExecuteAsync(connection, $"VACUUM ANALYZE {table}");
        }
        await PlanProbe.ExecuteAsync(connection, $"""
            INSERT INTO outbox_events (type, member_id, at, data)
                SELECT 'member.created', g % {members}, now(), NULL FROM generate_series(1, {Rows}) AS g;
            INSERT INTO webhooks (name, url, events, secret, enabled, from_catalog, created_at)
                VALUES ('crm', 'http://127.0.0.1:9/', '*', 'whsec_AAAA', true, false, now());
            INSERT INTO webhook_deliveries (event_id, webhook_id, member_id, state, attempts, due_at, created_at, done_at)
                SELECT g, (SELECT id FROM webhooks), g % {members}, CASE WHEN g > {Rows - pending} THEN 'P' ELSE 'D' END, 1, now() - interval '1 minute',
                    now(), CASE WHEN g > {Rows - pending} THEN NULL ELSE now() END
                FROM generate_series(1, {Rows}) AS g;
            UPDATE webhook_deliveries SET leased_until = '2030-01-01T00:00:00Z' WHERE id = {Rows};
            """);

        await using var tx = await connection.BeginTransactionAsync();
        if (statement == nameof(PostgresDispatchStore.ClaimSql))
            await PlanProbe.ExecuteAsync(connection, PostgresDispatchStore.ClaimPlanSql); // as the store claims
        var plan = await PlanProbe.LinesAsync(connection, $"EXPLAIN (ANALYZE, BUFFERS) {Sql(statement)}", Arguments(statement));
        await tx.RollbackAsync();

        var text = string.Join('\n', plan);
        Assert.DoesNotContain("Seq Scan on outbox_events", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan on webhook_deliveries", text, StringComparison.Ordinal);
        var read = PlanProbe.SharedPages(plan);
        Assert.True(read > 0 && read <= pages, $"{statement} read {read} pages:\n{text}");
    }

    [Fact]
    public async Task TheFanOutFindsTheNewEventsByTheirTransactionIdsNotByReadingTheOutbox()
    {
        await using var connection = await App.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await PlanProbe.ExecuteAsync(connection, "ALTER TABLE outbox_events SET (autovacuum_enabled = false)");
        await PlanProbe.ExecuteAsync(connection, "VACUUM ANALYZE outbox_events");
        // 200,000 events of one earlier transaction, their index ranges summarized as autovacuum
        // would, the statistics still those of the empty table; then 50 new ones above the mark.
        await PlanProbe.ExecuteAsync(connection, """
            INSERT INTO webhooks (name, url, events, secret, enabled, from_catalog, created_at)
                VALUES ('crm', 'http://127.0.0.1:9/', '*', 'whsec_AAAA', true, false, now());
            INSERT INTO outbox_events (type, member_id, at, data) SELECT 'member.created', g % 500, now(), NULL FROM generate_series(1, 200000) AS g;
            """);
        await PlanProbe.ExecuteAsync(connection, "VACUUM outbox_events");
        await PlanProbe.ExecuteAsync(connection, "UPDATE outbox_fanout SET below = (SELECT max(tx) + 1 FROM outbox_events)");
        await PlanProbe.ExecuteAsync(connection, "INSERT INTO outbox_events (type, member_id, at, data) SELECT 'member.created', g, now(), NULL FROM generate_series(1, 50) AS g");

        await using var tx = await connection.BeginTransactionAsync();
        await PlanProbe.ExecuteAsync(connection, PostgresDispatchStore.FanOutPlanSql); // as the store fans out
        var plan = await PlanProbe.LinesAsync(connection, $"EXPLAIN (ANALYZE, BUFFERS) {PostgresDispatchStore.FanOutSql}");
        await tx.RollbackAsync();

        var text = string.Join('\n', plan);
        Assert.Contains("Tuples Inserted: 50", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan on outbox_events", text, StringComparison.Ordinal);
        var read = PlanProbe.SharedPages(plan);
        // The 50 deliveries' rows and index entries take some 600; the outbox holds 1,500 and more.
        Assert.True(read > 0 && read <= 1000, $"the fan-out read {read} pages:\n{text}");
    }

    /// <summary>
    /// The settings that steer the fan-out's plans price the scans they turn off at 10^10, past
    /// <c>jit_above_cost</c>: on a connection of PostgreSQL's defaults these statements are
    /// compiled with LLVM at every run (some 150 ms of CPU, with nothing to read). The service's
    /// pools turn JIT off.
    /// </summary>
    [Theory]
    [InlineData(nameof(PostgresDispatchStore.FanOutSql), PostgresDispatchStore.FanOutPlanSql)]
    [InlineData(nameof(PostgresDispatchStore.OldestNotFannedOutSql), PostgresDispatchStore.FanOutPlanSql)]
    public async Task TheFanOutsStatementsAreNotCompiled(string statement, string settings)
    {
        await using var pooled = await App.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await PlanProbe.ExecuteAsync(pooled, """
            INSERT INTO webhooks (name, url, events, secret, enabled, from_catalog, created_at)
                VALUES ('crm', 'http://127.0.0.1:9/', '*', 'whsec_AAAA', true, false, now());
            """);
        Assert.Equal("off", string.Join("", await PlanProbe.LinesAsync(pooled, "SHOW jit")));
        Assert.DoesNotContain("JIT:", await ExplainAsync(pooled), StringComparison.Ordinal);

        await using var plain = new NpgsqlConnection(Connection);
        await plain.OpenAsync();
        if (string.Join("", await PlanProbe.LinesAsync(plain, "SELECT pg_jit_available()::text")) == "true")
            Assert.Contains("JIT:", await ExplainAsync(plain), StringComparison.Ordinal); // the hazard is real here

        async Task<string> ExplainAsync(NpgsqlConnection connection)
        {
            await using var tx = await connection.BeginTransactionAsync();
            await PlanProbe.ExecuteAsync(connection, settings);
            var plan = await PlanProbe.LinesAsync(connection, $"EXPLAIN (ANALYZE) {Sql(statement)}");
            await tx.RollbackAsync();
            return string.Join('\n', plan);
        }
    }

    private static string Sql(string statement) => (string)typeof(PostgresDispatchStore).GetField(statement)!.GetRawConstantValue()!;

    /// <summary>Values as the store binds them: a claim of 40, the settling of the one leased delivery with none given back.</summary>
    private static object[] Arguments(string statement)
    {
        var now = DateTimeOffset.UtcNow;
        var lease = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return statement switch
        {
            nameof(PostgresDispatchStore.ClaimSql) => [now, now.AddMinutes(1), 40, new[] { 99 }],
            _ =>
            [
                new long[] { Rows }, new[] { lease }, new[] { "D" }, new[] { 2 }, new[] { now }, new DateTimeOffset?[] { now }, new int?[] { 204 },
                new string?[] { null }, new[] { false }, new[] { now }, new[] { 3 }, new string?[] { null }, new string?[] { null },
                Array.Empty<long>(), Array.Empty<DateTimeOffset>(),
            ],
        };
    }
}
