using Microsoft.EntityFrameworkCore;
using Patron.Events;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

/// <summary>
/// A subscriber that takes its time answering holds back its own deliveries only: a pass waits a
/// second for its sends, then leaves the slow one's to settle by themselves, and the other
/// subscribers go on being served pass after pass.
/// </summary>
public abstract class WebhookSlowSubscriberTests(Backend backend) : WebhookTestBase(backend)
{
    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureHost(builder);
        builder.UseSetting("Webhooks:TimeoutSeconds", "60"); // the test, not the timeout, ends the slow answer
    }

    [Fact]
    public async Task ASlowSubscriberHoldsBackOnlyItsOwnDeliveries()
    {
        await App.QueryAsync(db => db.Set<Webhook>().Where(w => w.Name == "cards").ExecuteUpdateAsync(s => s.SetProperty(w => w.Events, "points.changed")));
        var cards = (await WebhookAsync("cards")).Id;
        using var answer = new SemaphoreSlim(0);
        Receiver.Answer = async r =>
        {
            if (r.Path == "/cards" && r.Body.Contains("\"Q-1\""))
                await answer.WaitAsync(TimeSpan.FromSeconds(30));
            return 200;
        };
        await AddPointsAsync(11, 10, "Q-1");

        var first = DispatchAsync();
        await UntilAsync(async () => (await DeliveriesAsync()).Any(d => d.State == WebhookDelivery.Delivered)); // crm's, at once
        Assert.False(first.IsCompleted); // the pass waits a second (of its clock) for cards' answer …
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, await first); // … then leaves it out
        Assert.Equal(WebhookDelivery.Pending, (await DeliveriesAsync()).Single(d => d.WebhookId == cards).State);

        await AddPointsAsync(12, 10, "Q-2");
        Assert.Equal(1, await DispatchAsync()); // crm's Q-2; cards' waits while its Q-1 is still out
        Assert.Equal(2, Receiver.At("/crm").Count());

        answer.Release();
        await UntilAsync(async () => (await DeliveriesAsync()).Count(d => d.State == WebhookDelivery.Delivered) == 3);
        Assert.Equal(1, await DispatchAsync()); // cards' Q-2, now that Q-1 has settled
        Assert.All(await DeliveriesAsync(), d => Assert.Equal((WebhookDelivery.Delivered, 1), (d.State, d.Attempts)));
        Assert.Equal(["Q-1", "Q-2"], Receiver.At("/cards").Select(r => r.Body.Contains("\"Q-1\"") ? "Q-1" : "Q-2"));
    }

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        for (var waited = 0; !await condition(); waited += 20)
        {
            Assert.True(waited < 10_000, "not within 10 s");
            await Task.Delay(20);
        }
    }
}

public sealed class WebhookSlowSubscriberTestsOnSqlite() : WebhookSlowSubscriberTests(Backend.Sqlite);

public sealed class WebhookSlowSubscriberTestsOnPostgres() : WebhookSlowSubscriberTests(Backend.Postgres);
