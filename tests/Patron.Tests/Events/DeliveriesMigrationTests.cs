using Microsoft.EntityFrameworkCore;
using Patron.Events;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

/// <summary>
/// Upgrading to deliveries made with their events: the events no dispatcher had taken yet get their
/// deliveries in the upgrade, and the trigger is there afterwards (SQLite rebuilds the table).
/// </summary>
public abstract class DeliveriesMigrationTests(Backend backend)
{
    [Fact]
    public async Task UpgradingMakesTheWaitingEventsDeliveriesAndLeavesTheTriggerInPlace()
    {
        await using var upgrade = await UpgradeSteps.BeforeAsync(backend, "DeliveriesWithEvents");
        var db = upgrade.Db;

        var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO webhooks (name, url, events, secret, enabled, from_catalog, created_at)
            VALUES ('crm', 'http://127.0.0.1:9/crm', 'points.changed', 'whsec_AAAA', true, false, {0});
            INSERT INTO outbox_events (type, member_id, at, data, dispatched) VALUES
                ('points.changed', 1, {0}, '{{}}', true), ('points.changed', 2, {0}, '{{}}', false), ('card.used', 3, {0}, '{{}}', false);
            """, upgrade.Stored(at));

        await upgrade.UpgradeAsync();
        db.Add(new OutboxEvent { Type = EventTypes.PointsChanged, MemberId = 4, At = at.AddMinutes(1), Data = "{}" });
        await db.SaveChangesAsync();

        var made = await db.Set<WebhookDelivery>().AsNoTracking().OrderBy(d => d.Id).Select(d => new { d.EventId, d.MemberId, d.State, d.DueAt }).ToListAsync();
        Assert.Equal([(2L, (long?)2, WebhookDelivery.Pending, at), (4L, 4, WebhookDelivery.Pending, at.AddMinutes(1))],
            made.Select(d => (d.EventId, d.MemberId, d.State, d.DueAt)));
    }
}

public sealed class DeliveriesMigrationTestsOnSqlite() : DeliveriesMigrationTests(Backend.Sqlite);

public sealed class DeliveriesMigrationTestsOnPostgres() : DeliveriesMigrationTests(Backend.Postgres);
