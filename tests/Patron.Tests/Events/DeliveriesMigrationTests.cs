using Microsoft.EntityFrameworkCore;
using Npgsql;
using Patron.Data;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

/// <summary>
/// Upgrading to deliveries made apart from the dispatch: the events no dispatcher had taken yet get
/// their deliveries in the upgrade, and later events get theirs (on SQLite from the trigger, which
/// the table's rebuild must not lose; on PostgreSQL from the fan-out).
/// </summary>
public abstract class DeliveriesMigrationTests(Backend backend)
{
    protected static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task UpgradingMakesTheWaitingEventsDeliveriesAndLaterEventsGetTheirs()
    {
        await using var upgrade = await UpgradeSteps.BeforeAsync(backend, "DeliveriesWithEvents");
        var db = upgrade.Db;

        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO webhooks (name, url, events, secret, enabled, from_catalog, created_at)
            VALUES ('crm', 'http://127.0.0.1:9/crm', 'points.changed', 'whsec_AAAA', true, false, {0});
            INSERT INTO outbox_events (type, member_id, at, data, dispatched) VALUES
                ('points.changed', 1, {0}, '{{}}', true), ('points.changed', 2, {0}, '{{}}', false), ('card.used', 3, {0}, '{{}}', false);
            """, upgrade.Stored(At));

        await upgrade.UpgradeAsync();
        db.Add(new OutboxEvent { Type = EventTypes.PointsChanged, MemberId = 4, At = At.AddMinutes(1), Data = "{}" });
        await db.SaveChangesAsync();
        await FanOutAsync(db);

        Assert.Equal([(2L, (long?)2, WebhookDelivery.Pending, At), (4L, 4, WebhookDelivery.Pending, At.AddMinutes(1))], await MadeAsync(db));
    }

    protected virtual Task FanOutAsync(PatronDb db) => Task.CompletedTask;

    protected static async Task<List<(long, long?, string, DateTimeOffset)>> MadeAsync(PatronDb db) =>
        [.. (await db.Set<WebhookDelivery>().AsNoTracking().OrderBy(d => d.Id).Select(d => new { d.EventId, d.MemberId, d.State, d.DueAt }).ToListAsync())
            .Select(d => (d.EventId, d.MemberId, d.State, d.DueAt))];
}

public sealed class DeliveriesMigrationTestsOnSqlite() : DeliveriesMigrationTests(Backend.Sqlite);

public sealed class DeliveriesMigrationTestsOnPostgres() : DeliveriesMigrationTests(Backend.Postgres)
{
    protected override async Task FanOutAsync(PatronDb db)
    {
        await using var source = NpgsqlDataSource.Create(db.Database.GetConnectionString()!);
        await new PostgresDispatchStore(source).FanOutAsync(CancellationToken.None);
    }

    [Fact]
    public async Task AnEventWhoseDeliveriesTheTriggerMadeIsNotFannedOutAgain()
    {
        await using var upgrade = await UpgradeSteps.BeforeAsync(Backend.Postgres, "DeliveriesByDispatcher");
        var db = upgrade.Db;
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO webhooks (name, url, events, secret, enabled, from_catalog, created_at)
            VALUES ('crm', 'http://127.0.0.1:9/crm', 'points.changed', 'whsec_AAAA', true, false, {0});
            INSERT INTO outbox_events (type, member_id, at, data) VALUES ('points.changed', 1, {0}, '{{}}');
            """, At);

        await upgrade.UpgradeAsync();
        db.Add(new OutboxEvent { Type = EventTypes.PointsChanged, MemberId = 2, At = At.AddMinutes(1), Data = "{}" });
        await db.SaveChangesAsync();
        await FanOutAsync(db);
        await FanOutAsync(db);

        Assert.Equal([(1L, (long?)1, WebhookDelivery.Pending, At), (2L, 2, WebhookDelivery.Pending, At.AddMinutes(1))], await MadeAsync(db));
    }
}
