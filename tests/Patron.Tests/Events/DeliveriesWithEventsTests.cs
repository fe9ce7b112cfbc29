using Microsoft.EntityFrameworkCore;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

/// <summary>
/// An event's deliveries: one per enabled subscriber that wants its type, due at the event's time,
/// made before anything is sent (on SQLite in the statement that writes the event, on PostgreSQL by
/// the fan-out that starts each dispatcher pass).
/// </summary>
public abstract class DeliveriesWithEventsTests(Backend backend) : WebhookTestBase(backend)
{
    /// <summary>The deliveries made so far, in id order; each checked to be pending and due at its event's time.</summary>
    private async Task<List<(string Webhook, string Type, long? Member)>> MadeAsync()
    {
        await FanOutAsync();
        var made = await App.QueryAsync(db =>
            (from d in db.Set<WebhookDelivery>()
             join e in db.OutboxEvents on d.EventId equals e.Id
             join w in db.Set<Webhook>() on d.WebhookId equals w.Id
             orderby d.Id
             select new { w.Name, e.Type, d.MemberId, d.State, d.DueAt, e.At }).ToListAsync());
        Assert.All(made, d => Assert.Equal((WebhookDelivery.Pending, d.At), (d.State, d.DueAt)));
        return [.. made.Select(d => (d.Name, d.Type, d.MemberId))];
    }

    private Task AddWebhookAsync(string name, bool enabled) => App.QueryAsync(db =>
    {
        db.Add(new Webhook
        {
            Name = name, Url = $"{Receiver.BaseUrl}/{name}", Events = WebhookRules.AllTypes, Secret = CrmSecret, Enabled = enabled,
            CreatedAt = Time.GetUtcNow(),
        });
        return db.SaveChangesAsync();
    });

    [Fact]
    public async Task EachSubscriberThatWantsAnEventGetsOneDelivery()
    {
        await AddWebhookAsync("all", enabled: true);
        await AddWebhookAsync("off", enabled: false);

        await AddPointsAsync(8, 2000, "W-1"); // promotes: points.changed, then level.changed
        Assert.NotEqual(0, (await Partner.AddPointsAsync(8, "E", -1_000_000, "W-2")).Errcode); // refused: no event, no delivery

        // crm wants points.changed, cards only card.used, all every type, off is disabled.
        Assert.Equal([("crm", EventTypes.PointsChanged, (long?)8), ("all", EventTypes.PointsChanged, 8), ("all", EventTypes.LevelChanged, 8)],
            await MadeAsync());
        Assert.Empty(Receiver.Requests); // made, not sent: no pass has run
    }

    [Fact]
    public async Task AnEventWrittenThroughTheModelGetsItsDeliveriesToo()
    {
        await App.QueryAsync(db => db.Set<Webhook>().Where(w => w.Name == "crm").ExecuteUpdateAsync(s => s.SetProperty(w => w.Events, "level.changed points.changed")));
        var e = OutboxEvents.LevelSet(9, 1, 32, await App.QueryAsync(db => db.Channels.Select(c => c.Id).FirstAsync()), Time.GetUtcNow());
        await App.QueryAsync(db =>
        {
            db.OutboxEvents.Add(e);
            return db.SaveChangesAsync();
        });

        Assert.True(e.Id > 0, "the event's id comes back without RETURNING");
        Assert.Equal([("crm", EventTypes.LevelChanged, (long?)9)], await MadeAsync());
    }

    [Fact]
    public async Task ASubscriberAddedLaterGetsOnlyTheEventsAfterIt()
    {
        await AddPointsAsync(3, 10, "B-1");
        await FanOutAsync();
        await App.QueryAsync(db => db.Set<Webhook>().Where(w => w.Name == "cards").ExecuteUpdateAsync(s => s.SetProperty(w => w.Events, "points.changed")));
        await AddPointsAsync(3, 10, "B-2");

        Assert.Equal([("crm", EventTypes.PointsChanged, (long?)3), ("crm", EventTypes.PointsChanged, 3), ("cards", EventTypes.PointsChanged, 3)],
            await MadeAsync());
    }
}

public sealed class DeliveriesWithEventsTestsOnSqlite() : DeliveriesWithEventsTests(Backend.Sqlite);

public sealed class DeliveriesWithEventsTestsOnPostgres() : DeliveriesWithEventsTests(Backend.Postgres);
