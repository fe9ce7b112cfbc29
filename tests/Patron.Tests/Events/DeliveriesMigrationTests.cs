using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
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
        var connection = await backend.NewDatabaseAsync();
        await using var db = backend.Open(connection);
        var migrator = db.GetService<IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        await migrator.MigrateAsync(migrations[migrations.FindIndex(m => m.EndsWith("_DeliveriesWithEvents", StringComparison.Ordinal)) - 1]);

        var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        object Stored(DateTimeOffset t) => backend == Backend.Sqlite ? new DateTimeOffsetToBinaryConverter().ConvertToProvider(t)! : t;
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO webhooks (name, url, events, secret, enabled, from_catalog, created_at)
            VALUES ('crm', 'http://127.0.0.1:9/crm', 'points.changed', 'whsec_AAAA', true, false, {0});
            INSERT INTO outbox_events (type, member_id, at, data, dispatched) VALUES
                ('points.changed', 1, {0}, '{{}}', true), ('points.changed', 2, {0}, '{{}}', false), ('card.used', 3, {0}, '{{}}', false);
            """, Stored(at));

        await migrator.MigrateAsync();
        db.Add(new OutboxEvent { Type = EventTypes.PointsChanged, MemberId = 4, At = at.AddMinutes(1), Data = "{}" });
        await db.SaveChangesAsync();

        var made = await db.Set<WebhookDelivery>().AsNoTracking().OrderBy(d => d.Id).Select(d => new { d.EventId, d.MemberId, d.State, d.DueAt }).ToListAsync();
        Assert.Equal([(2L, (long?)2, WebhookDelivery.Pending, at), (4L, 4, WebhookDelivery.Pending, at.AddMinutes(1))],
            made.Select(d => (d.EventId, d.MemberId, d.State, d.DueAt)));
    }
}

public sealed class DeliveriesMigrationTestsOnSqlite() : DeliveriesMigrationTests(Backend.Sqlite);

public sealed class DeliveriesMigrationTestsOnPostgres() : DeliveriesMigrationTests(Backend.Postgres);
