using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

/// <summary>
/// PostgreSQL's deliveries are made by the dispatchers' fan-out, from the events of transactions
/// that have ended: none lost to commits out of order, none made twice, each member's in order.
/// </summary>
public sealed class FanOutTestsOnPostgres() : WebhookTestBase(Backend.Postgres)
{
    protected override int Parallel => 4; // a pass claims 16

    private async Task<NpgsqlTransaction> BeginWithXidAsync(NpgsqlConnection connection)
    {
        await connection.OpenAsync();
        var tx = await connection.BeginTransactionAsync();
        await using var xid = new NpgsqlCommand("SELECT pg_current_xact_id()", connection, tx);
        await xid.ExecuteScalarAsync();
        return tx;
    }

    private async Task<long> InsertEventAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long member)
    {
        await using var insert = new NpgsqlCommand(
            "INSERT INTO outbox_events (type, member_id, at, data) VALUES ('member.created', $1, $2, '{}') RETURNING id", connection, tx)
        {
            Parameters = { new() { Value = member }, new() { Value = Time.GetUtcNow() } },
        };
        return (long)(await insert.ExecuteScalarAsync())!;
    }

    private Task<List<(long Event, long? Member)>> MadeAsync() => App.QueryAsync(async db =>
        (await db.Set<WebhookDelivery>().AsNoTracking().OrderBy(d => d.Id).Select(d => new { d.EventId, d.MemberId }).ToListAsync())
            .Select(d => (d.EventId, d.MemberId)).ToList());

    [Fact]
    public async Task AMembersEventsKeepTheirOrderWhenTheirTransactionIdsRunTheOtherWay()
    {
        await App.QueryAsync(db => db.Set<Webhook>().Where(w => w.Name == "crm").ExecuteUpdateAsync(s => s.SetProperty(w => w.Events, "*")));
        await using var first = new NpgsqlConnection(Connection);
        await using var second = new NpgsqlConnection(Connection);
        await using var bystander = new NpgsqlConnection(Connection);
        // The second writer takes its transaction id first, then a bystander, then the first writer:
        // the first writer's event comes first for the member but has the highest transaction id.
        var secondTx = await BeginWithXidAsync(second);
        var bystanderTx = await BeginWithXidAsync(bystander);
        var firstTx = await BeginWithXidAsync(first);
        var early = await InsertEventAsync(first, firstTx, 7);
        await firstTx.CommitAsync();
        var late = await InsertEventAsync(second, secondTx, 7);
        await secondTx.CommitAsync();

        // The bystander still runs: the oldest running transaction lies between the two writers'.
        Assert.Equal(2, await FanOutAsync());
        var other = await InsertEventAsync(bystander, bystanderTx, 8);
        await bystanderTx.CommitAsync();
        Assert.Equal(1, await FanOutAsync());
        Assert.Equal(0, await FanOutAsync());

        Assert.Equal([(early, (long?)7), (late, 7), (other, 8)], await MadeAsync());
    }

    [Fact]
    public async Task DispatchersFanningOutAtOnceMakeEachDeliveryOnce()
    {
        var second = StartApp(Time);
        var writes = Task.Run(async () =>
        {
            for (var member = 11; member <= 40; member++)
                await AddPointsAsync(member, 10, $"F-{member}");
        });
        var fanOuts = new[] { App, second, App, second }.Select(app => Task.Run(async () =>
        {
            while (!writes.IsCompleted)
                await FanOutAsync(app);
            await FanOutAsync(app);
        })).ToList();
        await Task.WhenAll([writes, .. fanOuts]);
        await FanOutAsync();

        var made = await MadeAsync();
        Assert.Equal(30, made.Count); // crm's, one per points add
        Assert.Equal(Enumerable.Range(11, 30).Select(m => (long?)m), made.Select(d => d.Member));
    }

    [Fact]
    public async Task AFanOutOfABacklogRefreshesTheDeliveriesStatistics()
    {
        await App.QueryAsync(db => db.Set<Webhook>().Where(w => w.Name == "crm").ExecuteUpdateAsync(s => s.SetProperty(w => w.Events, "*")));
        await using var connection = new NpgsqlConnection(Connection);
        await connection.OpenAsync();
        await using (var backlog = new NpgsqlCommand(
            $"INSERT INTO outbox_events (type, member_id, at) SELECT 'member.created', g % 500, now() FROM generate_series(1, {PostgresDispatchStore.AnalyzeAfter}) AS g",
            connection))
            await backlog.ExecuteNonQueryAsync();

        Assert.Equal(PostgresDispatchStore.AnalyzeAfter, await FanOutAsync());

        // What the planner believes the table holds: nothing until it is analyzed (autovacuum looks once a minute).
        await using var believed = new NpgsqlCommand("SELECT reltuples FROM pg_class WHERE relname = 'webhook_deliveries'", connection);
        Assert.Equal(PostgresDispatchStore.AnalyzeAfter, (float)(await believed.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task APassMakesNewDeliveriesOnlyOnceItsClaimsRunShort()
    {
        var dispatcher = App.Services.GetRequiredService<WebhookDispatcher>();
        for (var member = 11; member <= 30; member++)
            await AddPointsAsync(member, 10, $"Y-{member}");
        Assert.Equal(16, await dispatcher.RunOnceAsync(CancellationToken.None)); // made 20, sent 16

        await AddPointsAsync(31, 10, "Y-31");
        Assert.Equal(4, await dispatcher.RunOnceAsync(CancellationToken.None)); // the last claim was full: none made
        Assert.Equal(20, (await MadeAsync()).Count);
        Assert.Equal(1, await dispatcher.RunOnceAsync(CancellationToken.None));
        Assert.Equal(21, Receiver.At("/crm").Count);
    }
}
