using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Catalog;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

public abstract class WebhookDeliveryTests(Backend backend) : WebhookTestBase(backend)
{
    [Fact]
    public async Task APointsChangeReachesItsSubscriberSignedWithTheLedgerRowAsData()
    {
        await AddPointsAsync(1, 120, "W-1");
        Assert.Equal(1, await DispatchAsync());

        var got = Assert.Single(Receiver.Requests);
        Assert.Equal("/crm", got.Path);
        Assert.Empty(Receiver.At("/cards")); // it wants card.used only
        var row = await App.QueryAsync(db => db.PointEntries.AsNoTracking().SingleAsync(r => r.MemberId == 1));
        var evt = await App.QueryAsync(db => db.Set<OutboxEvent>().AsNoTracking().SingleAsync(e => e.LedgerId == row.AutoId && e.Type == EventTypes.PointsChanged));
        Assert.Equal($"evt_{evt.Id}", got.Id);
        Assert.Equal(Time.GetUtcNow().ToUnixTimeSeconds(), got.Timestamp);
        Assert.StartsWith("application/json", got.ContentType);
        Assert.Equal(StandardSignature(CrmSecret, got.Id, got.Timestamp, got.Body), got.Signature);

        var body = JsonNode.Parse(got.Body)!.AsObject();
        Assert.Equal(["type", "timestamp", "data"], body.Select(p => p.Key));
        Assert.Equal("points.changed", (string)body["type"]!);
        Assert.Equal(evt.At, DateTimeOffset.Parse((string)body["timestamp"]!));
        Assert.EndsWith("Z", (string)body["timestamp"]!);
        var data = body["data"]!;
        Assert.Equal(row.AutoId, (long)data["autoId"]!);
        Assert.Equal(1, (long)data["memberId"]!);
        Assert.Equal("P", (string)data["busiType"]!);
        Assert.Equal("W-1", (string)data["busiBillNum"]!);
        Assert.Equal(120, (long)data["changeValue"]!);
        Assert.Equal(row.BalanceBefore, (long)data["balanceBefore"]!);
        Assert.Equal(row.BalanceAfter, (long)data["balanceAfter"]!);
        Assert.Equal(row.LevelBefore, (int)data["levelBefore"]!);
        Assert.Equal(row.LevelAfter, (int)data["levelAfter"]!);
        Assert.Equal("hkl-test", (string)data["channel"]!);

        var delivery = Assert.Single(await DeliveriesAsync());
        Assert.Equal((WebhookDelivery.Delivered, 1, 200), (delivery.State, delivery.Attempts, delivery.LastStatus));
        Assert.Equal(0, await DispatchAsync()); // delivered once, not again
        Assert.Single(Receiver.Requests);
    }

    [Fact]
    public async Task WhileASecretRotatesDeliveriesCarryASignatureByEach()
    {
        CatalogCrmSecret = WebhookSecrets.Prefix + Convert.ToBase64String(new byte[32]);
        var restarted = StartApp(Time); // the catalog with the new secret
        await AddPointsAsync(2, 10, "R-1");
        await DispatchAsync(restarted);

        var got = Assert.Single(Receiver.At("/crm"));
        var signatures = got.Signature.Split(' ');
        Assert.Equal([StandardSignature(CatalogCrmSecret, got.Id, got.Timestamp, got.Body), StandardSignature(CrmSecret, got.Id, got.Timestamp, got.Body)],
            signatures);

        // A day later only the new secret signs.
        Time.Advance(WebhookAdmin.RotationOverlap + TimeSpan.FromSeconds(1));
        await AddPointsAsync(2, 10, "R-2");
        await DispatchAsync(restarted);
        var later = Receiver.At("/crm")[1];
        Assert.Equal(StandardSignature(CatalogCrmSecret, later.Id, later.Timestamp, later.Body), later.Signature);
    }

    [Fact]
    public async Task AFailingReceiverIsRetriedOnTheScheduleThenTheDeliveryFails()
    {
        Receiver.Answer = _ => Task.FromResult(500);
        await AddPointsAsync(3, 10, "F-1");
        await DispatchAsync();
        TimeSpan[] waits = [TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
            TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10)];
        foreach (var wait in waits)
        {
            var pending = Assert.Single(await DeliveriesAsync());
            Assert.Equal(WebhookDelivery.Pending, pending.State);
            Assert.Equal(Time.GetUtcNow() + wait, pending.DueAt);
            Time.Advance(wait - TimeSpan.FromSeconds(1));
            Assert.Equal(0, await DispatchAsync()); // not due yet
            Time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, await DispatchAsync());
        }
        var failed = Assert.Single(await DeliveriesAsync());
        Assert.Equal((WebhookDelivery.Failed, 8, 500), (failed.State, failed.Attempts, failed.LastStatus));
        Assert.Equal(8, Receiver.Requests.Count);
        Assert.Single(Receiver.Requests.Select(r => r.Id).Distinct()); // the same webhook-id every time
        Assert.Equal(8, await App.QueryAsync(db => db.Set<WebhookAttempt>().CountAsync(a => a.DeliveryId == failed.Id && a.Status == 500)));
        Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await DispatchAsync());
    }

    [Fact]
    public async Task AReceiverThatDoesNotAnswerInTimeIsRetried()
    {
        Receiver.Answer = async _ =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            return 200;
        };
        await AddPointsAsync(4, 10, "T-1");
        var started = DateTime.UtcNow;
        await DispatchAsync();
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2.5), "the 1 s timeout cut the send short");

        var delivery = Assert.Single(await DeliveriesAsync());
        Assert.Equal((WebhookDelivery.Pending, 1, (int?)null), (delivery.State, delivery.Attempts, delivery.LastStatus));
        Assert.Equal(Time.GetUtcNow() + TimeSpan.FromSeconds(5), delivery.DueAt);
        var attempt = await App.QueryAsync(db => db.Set<WebhookAttempt>().AsNoTracking().SingleAsync());
        Assert.Null(attempt.Status);
        Assert.Contains("no answer within 1 s", attempt.Error);
    }

    [Fact]
    public async Task A410GoneDisablesTheSubscription()
    {
        Receiver.Answer = _ => Task.FromResult(410);
        await AddPointsAsync(5, 10, "G-1");
        await DispatchAsync();
        var crm = await WebhookAsync("crm");
        Assert.False(crm.Enabled);
        Assert.Equal("410 Gone", crm.DisabledReason);
        Assert.Equal(WebhookDelivery.Failed, Assert.Single(await DeliveriesAsync()).State);

        Receiver.Answer = _ => Task.FromResult(200);
        await AddPointsAsync(5, 10, "G-2");
        Time.Advance(TimeSpan.FromDays(1));
        await DispatchAsync();
        Assert.Single(Receiver.Requests);
        Assert.Single(await DeliveriesAsync()); // a disabled subscriber gets no new deliveries
    }

    [Fact]
    public async Task AMembersLaterEventWaitsForItsEarlierOneWhileAnotherMembersGoes()
    {
        var failedOnce = 0;
        Receiver.Answer = r => Task.FromResult(r.Body.Contains("\"busiBillNum\":\"O-1\"") && Interlocked.Exchange(ref failedOnce, 1) == 0 ? 500 : 200);
        await AddPointsAsync(6, 10, "O-1");
        await AddPointsAsync(6, 10, "O-2");
        await AddPointsAsync(7, 10, "O-3");

        Assert.Equal(3, await DispatchAsync()); // member 6's two, member 7's
        Assert.Equal(["O-1", "O-3"], Bills().Order()); // O-1 failed, so O-2 behind it was not sent
        var o2 = (await DeliveriesAsync())[1];
        Assert.Equal((WebhookDelivery.Pending, 0, (DateTimeOffset?)null), (o2.State, o2.Attempts, o2.LeasedUntil)); // given back, not left leased
        Assert.Equal(0, await DispatchAsync()); // O-1 waits for its retry, O-2 behind it
        Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(2, await DispatchAsync());
        Assert.Equal(["O-1", "O-1", "O-2"], Bills().Where(b => b != "O-3"));
        Assert.All(await DeliveriesAsync(), d => Assert.Equal(WebhookDelivery.Delivered, d.State));
    }

    [Fact]
    public async Task AMembersBacklogGoesInOnePassInOrderAndStopsAtAFailure()
    {
        var failedOnce = 0;
        Receiver.Answer = r => Task.FromResult(r.Body.Contains("\"busiBillNum\":\"B-3\"") && Interlocked.Exchange(ref failedOnce, 1) == 0 ? 500 : 200);
        for (var i = 1; i <= 6; i++)
            await AddPointsAsync(9, 10, $"B-{i}");

        Assert.Equal(6, await DispatchAsync());
        Assert.Equal(["B-1", "B-2", "B-3"], Bills()); // one after another; B-3 failed, B-4 to B-6 not sent
        Assert.Equal([WebhookDelivery.Delivered, WebhookDelivery.Delivered, WebhookDelivery.Pending, WebhookDelivery.Pending, WebhookDelivery.Pending, WebhookDelivery.Pending],
            (await DeliveriesAsync()).Select(d => d.State));
        Assert.Equal(0, await DispatchAsync()); // behind B-3's retry

        Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(4, await DispatchAsync());
        Assert.Equal(["B-1", "B-2", "B-3", "B-3", "B-4", "B-5", "B-6"], Bills());
        Assert.All(await DeliveriesAsync(), d => Assert.Equal(WebhookDelivery.Delivered, d.State));
    }

    [Fact]
    public async Task EveryKindOfEventCanBeAskedForWithAStar()
    {
        await App.QueryAsync(db => db.Set<Webhook>().Where(w => w.Name == "cards").ExecuteUpdateAsync(s => s.SetProperty(w => w.Events, "*")));
        await AddPointsAsync(8, 2000, "S-1"); // promotes: points.changed and level.changed
        Assert.Equal(3, await DispatchAsync()); // points.changed to crm and to cards; level.changed to cards after it
        Assert.Equal(0, await DispatchAsync());
        Assert.Equal(["points.changed", "level.changed"], Receiver.At("/cards").Select(r => (string)JsonNode.Parse(r.Body)!["type"]!));
        var level = JsonNode.Parse(Receiver.At("/cards").Single(r => r.Body.Contains("level.changed")).Body)!["data"]!;
        Assert.Equal("points", (string)level["cause"]!);
    }

    [Fact]
    public async Task AClaimWhoseSenderDiedIsSentAgainOnceItsLeaseRunsOut()
    {
        await AddPointsAsync(10, 10, "K-1");
        await FanOutAsync();
        var store = App.Services.GetRequiredService<IDispatchStore>();
        var now = Time.GetUtcNow();
        // An instance claims it and dies before sending: nobody else may send it while the lease holds.
        Assert.Single(await store.ClaimAsync(now, now + TimeSpan.FromSeconds(7), 10, [], CancellationToken.None));
        Time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(0, await DispatchAsync());
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await DispatchAsync());
        Assert.Single(Receiver.Requests);
        Assert.Equal(WebhookDelivery.Delivered, Assert.Single(await DeliveriesAsync()).State);
    }

    private List<string> Bills() => [.. Receiver.Requests.Select(r => (string)JsonNode.Parse(r.Body)!["data"]!["busiBillNum"]!)];
}

public sealed class WebhookDeliveryTestsOnSqlite() : WebhookDeliveryTests(Backend.Sqlite);

public sealed class WebhookDeliveryTestsOnPostgres() : WebhookDeliveryTests(Backend.Postgres);
