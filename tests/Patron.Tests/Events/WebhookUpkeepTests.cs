using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

/// <summary>What the dispatcher keeps and what it reports.</summary>
public abstract class WebhookUpkeepTests(Backend backend) : WebhookTestBase(backend)
{
    // The pruning under test removes events with their ledger rows still there.
    protected override bool LedgerRowsHaveTheirEvents => false;

    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureHost(builder);
        builder.UseSetting("Webhooks:KeepDays", "30");
    }

    [Fact]
    public async Task SettledDeliveriesAndTheirEventsArePrunedAfterKeepDays()
    {
        Receiver.Answer = r => Task.FromResult(r.Body.Contains("\"P-2\"") ? 500 : 200);
        await AddPointsAsync(12, 10, "P-1");
        await AddPointsAsync(13, 10, "P-2"); // still retrying when the first is pruned
        await DispatchAsync();

        Time.Advance(TimeSpan.FromDays(29));
        await DispatchAsync();
        Assert.Equal(2, (await DeliveriesAsync()).Count); // kept for 30 days

        Time.Advance(TimeSpan.FromDays(2));
        await DispatchAsync();
        var left = Assert.Single(await DeliveriesAsync());
        Assert.Equal(WebhookDelivery.Pending, left.State);
        Assert.Equal([left.EventId], await App.QueryAsync(db => db.Set<OutboxEvent>().Select(e => e.Id).ToListAsync()));
        Assert.Equal(0, await App.QueryAsync(db => db.Set<WebhookAttempt>().CountAsync(a => a.DeliveryId != left.Id)));
    }

    [Fact]
    public async Task PruningWalksTheOldRangesAndStopsAtTheFirstRecentOne()
    {
        Receiver.Answer = r => Task.FromResult(r.Body.Contains("\"K-3\"") ? 500 : 200);
        for (var i = 1; i <= 6; i++)
            await AddPointsAsync(20 + i, 10, $"K-{i}"); // K-3 still retrying when the others are pruned
        await DispatchAsync();
        Time.Advance(TimeSpan.FromDays(10)); // within KeepDays: the dispatcher's own pruning leaves them
        for (var i = 7; i <= 16; i++)
            await AddPointsAsync(20 + i, 10, $"K-{i}");
        await DispatchAsync();
        var recent = (await DeliveriesAsync()).Where(d => d.CreatedAt > Time.GetUtcNow().AddDays(-1)).Select(d => d.Id).ToList();

        var pruning = new OutboxPruning(App.Services.GetRequiredService<IServiceScopeFactory>()) { Range = 2 };
        var walked = await pruning.PruneAsync(Time.GetUtcNow() - TimeSpan.FromDays(5), CancellationToken.None);

        var left = await DeliveriesAsync();
        Assert.Equal(11, left.Count); // K-3, pending, and the ten recent ones
        Assert.Equal(WebhookDelivery.Pending, left.Single(d => !recent.Contains(d.Id)).State);
        Assert.Equal(11, await App.QueryAsync(db => db.Set<OutboxEvent>().CountAsync()));
        // Six old rows in each table take three ranges of two, and the first recent range ends each walk:
        // the recent rows' other four ranges are never read.
        Assert.Equal(8, walked);
    }

    [Fact]
    public async Task TheMetricsCountOutcomesAndTheLag()
    {
        var metrics = App.Services.GetRequiredService<WebhookMetrics>();
        var counts = new Dictionary<string, long>();
        double? lag = null;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == metrics.Meter)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name + string.Concat(tags.ToArray().Select(t => $" {t.Key}={t.Value}"));
            lock (counts)
                counts[key] = counts.GetValueOrDefault(key) + value;
        });
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => lag = value);
        listener.Start();

        var fails = 1;
        Receiver.Answer = _ => Task.FromResult(Interlocked.Exchange(ref fails, 0) == 1 ? 503 : 200);
        await AddPointsAsync(14, 10, "M-1");
        Time.Advance(TimeSpan.FromSeconds(10));
        await DispatchAsync();
        listener.RecordObservableInstruments();
        Assert.Equal(10, lag!.Value, 0.5); // the event waited 10 s for the dispatcher
        Time.Advance(TimeSpan.FromSeconds(8));
        await DispatchAsync();
        listener.RecordObservableInstruments();
        Assert.Equal(3, lag!.Value, 0.5); // its retry was due 3 s before this pass

        Assert.Equal(1, counts["patron.webhook.deliveries webhook=crm outcome=retry"]);
        Assert.Equal(1, counts["patron.webhook.deliveries webhook=crm outcome=delivered"]);
        Assert.Equal(1, counts["patron.webhook.failures webhook=crm"]);
    }
}

public sealed class WebhookUpkeepTestsOnSqlite() : WebhookUpkeepTests(Backend.Sqlite);

public sealed class WebhookUpkeepTestsOnPostgres() : WebhookUpkeepTests(Backend.Postgres);

/// <summary>The dispatcher as it runs in a service: in the background, on the real clock.</summary>
public abstract class WebhookBackgroundTests(Backend backend) : WebhookTestBase(backend)
{
    protected override TimeProvider? Clock => TestWorld.Clock;

    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureHost(builder);
        builder.UseSetting("Webhooks:Enabled", "true");
        builder.UseSetting("Webhooks:PollMilliseconds", "50");
    }

    [Fact]
    public async Task EventsAreSentWithoutAnyoneAsking()
    {
        for (var i = 1; i <= 5; i++)
            await AddPointsAsync(15, 10, $"B-{i}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Receiver.At("/crm").Count < 5 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.Equal(["B-1", "B-2", "B-3", "B-4", "B-5"],
            Receiver.At("/crm").Select(r => (string)System.Text.Json.Nodes.JsonNode.Parse(r.Body)!["data"]!["busiBillNum"]!));
    }
}

public sealed class WebhookBackgroundTestsOnSqlite() : WebhookBackgroundTests(Backend.Sqlite);

public sealed class WebhookBackgroundTestsOnPostgres() : WebhookBackgroundTests(Backend.Postgres);

/// <summary>A secret the key ring cannot read any more: the delivery is not sent unsigned, nor left stuck.</summary>
public abstract class WebhookSecretLostTests(Backend backend) : WebhookTestBase(backend)
{
    [Fact]
    public async Task ADeliveryWhoseSecretCannotBeReadIsRetriedNotSent()
    {
        await App.QueryAsync(db => db.Set<Webhook>().Where(w => w.Name == "crm").ExecuteUpdateAsync(s => s.SetProperty(w => w.Secret, "dp1:not-a-protected-value")));
        await AddPointsAsync(16, 10, "X-1");
        Assert.Equal(1, await DispatchAsync());
        Assert.Empty(Receiver.Requests);
        var delivery = Assert.Single(await DeliveriesAsync());
        Assert.Equal((WebhookDelivery.Pending, 1), (delivery.State, delivery.Attempts));
        Assert.Contains("secret cannot be read", delivery.LastError);
    }
}

public sealed class WebhookSecretLostTestsOnSqlite() : WebhookSecretLostTests(Backend.Sqlite);

public sealed class WebhookSecretLostTestsOnPostgres() : WebhookSecretLostTests(Backend.Postgres);
