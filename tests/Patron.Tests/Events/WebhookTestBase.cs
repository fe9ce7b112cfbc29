using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

/// <summary>
/// Webhooks to a real receiver on loopback, with the dispatcher run by hand under a clock the test
/// moves. Two subscribers from the catalog: <c>crm</c> wants points.changed, <c>cards</c> card.used.
/// </summary>
public abstract class WebhookTestBase(Backend backend) : PatronTest(backend), IAsyncLifetime
{
    public static readonly string CrmSecret = WebhookSecrets.Prefix + Convert.ToBase64String([.. Enumerable.Range(1, 32).Select(i => (byte)i)]);
    public static readonly string CardsSecret = WebhookSecrets.Prefix + Convert.ToBase64String([.. Enumerable.Range(101, 32).Select(i => (byte)i)]);

    protected readonly FakeTimeProvider Time = new(TestWorld.Start.ToUniversalTime());

    protected WebhookReceiver Receiver { get; private set; } = null!;

    /// <summary>The crm subscriber's secret in the catalog the next host applies.</summary>
    protected string CatalogCrmSecret { get; set; } = CrmSecret;

    protected virtual int Parallel => 32;

    protected override TimeProvider? Clock => Time;

    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Channels:CacheMilliseconds", "0");
        builder.UseSetting("Webhooks:Enabled", "false");
        builder.UseSetting("Webhooks:TimeoutSeconds", "1");
        builder.UseSetting("Webhooks:Parallel", Parallel.ToString());
    }

    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        catalog["webhooks"] = new JsonArray(
            new JsonObject { ["name"] = "crm", ["url"] = Receiver.BaseUrl + "/crm", ["events"] = new JsonArray("points.changed"), ["secret"] = CatalogCrmSecret },
            new JsonObject { ["name"] = "cards", ["url"] = Receiver.BaseUrl + "/cards", ["events"] = new JsonArray("card.used"), ["secret"] = CardsSecret });
        return catalog;
    }

    async Task IAsyncLifetime.InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        await InitializeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Receiver.DisposeAsync();
    }

    protected Task<int> DispatchAsync(PatronApp? app = null) =>
        (app ?? App).Services.GetRequiredService<WebhookDispatcher>().RunOnceAsync(CancellationToken.None);

    /// <summary>What a pass does first: on PostgreSQL, makes the deliveries of the events written since the last.</summary>
    protected Task<int> FanOutAsync(PatronApp? app = null) =>
        (app ?? App).Services.GetRequiredService<IDispatchStore>().FanOutAsync(CancellationToken.None);

    protected Task<List<WebhookDelivery>> DeliveriesAsync() =>
        App.QueryAsync(db => db.Set<WebhookDelivery>().AsNoTracking().OrderBy(d => d.Id).ToListAsync());

    protected Task<Webhook> WebhookAsync(string name) => App.QueryAsync(db => db.Set<Webhook>().AsNoTracking().SingleAsync(w => w.Name == name));

    protected async Task AddPointsAsync(long memberId, long change, string bill)
    {
        var answer = await Partner.AddPointsAsync(memberId, "P", change, bill);
        Assert.Equal(0, answer.Errcode);
    }

    /// <summary>
    /// Standard Webhooks' signature, written out here apart from the product's: HMAC-SHA256 keyed
    /// by the base64 after <c>whsec_</c>, over <c>{webhook-id}.{webhook-timestamp}.{body}</c>, in base64 after <c>v1,</c>.
    /// </summary>
    public static string StandardSignature(string secret, string id, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        using var hmac = new HMACSHA256(key);
        return "v1," + Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
    }
}
