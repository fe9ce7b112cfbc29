using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Faults;

/// <summary>
/// Webhooks under faults. A subscriber of every event type is a receiver process on loopback that
/// answers some requests 500 and sleeps past the timeout on others; partners add points and use
/// cards for a few hundred members while the service is SIGKILLed in the middle of deliveries
/// (at least one kill lands while a request is at the receiver, unanswered) and the receiver is
/// SIGKILLed and restarted on its port. When the dispatcher has nothing left to send, every event
/// reached the receiver at least once, none was given up on, every signature verifies, every body
/// is what the database holds, each member's events first arrived in order — and the partners'
/// own invariants hold (<see cref="FaultLoad.VerifyAsync"/>).
/// </summary>
public abstract class WebhookFaultTests(Backend backend, ITestOutputHelper output) : PatronTest(backend)
{
    private const int Members = 300;
    private const int Clients = 4;
    private const int ServiceKills = 3;
    private const int MaxServiceKills = 6;

    /// <summary>How long the receiver holds a 204, so that a kill of the service finds requests at the receiver.</summary>
    private const int HoldMilliseconds = 30;

    /// <summary>The subscription's secret, fixed here so the test checks signatures with its own HMAC.</summary>
    private static readonly string Secret = "whsec_" + Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray());

    /// <summary>
    /// Ten retries, 1 to 3 s apart: a receiver down for a couple of seconds takes three or four of a
    /// delivery's attempts, and the random 500s and timeouts (one in ten) would need the rest to
    /// fail too before a delivery is given up on.
    /// </summary>
    private static readonly string[] Settings =
    [
        .. FaultTests.Fast, "--Webhooks:TimeoutSeconds", "1", "--Webhooks:Retries", "1s,1s,1s,1s,2s,2s,2s,2s,3s,3s",
        "--Webhooks:PollMilliseconds", "100", "--Webhooks:Parallel", "64",
    ];

    private static readonly string[] Misbehaviour =
        ["--fail-percent", "9", "--slow-percent", "1", "--slow-ms", "1500", "--hold-ms", HoldMilliseconds.ToString()];

    /// <summary>This host only seeds and reads: its own dispatcher stays off, and its clock, long stopped, settles nothing.</summary>
    protected override TimeProvider? Clock { get; } = new FakeTimeProvider(new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero));

    protected override void ConfigureHost(IWebHostBuilder builder) => builder.UseSetting("Webhooks:Enabled", "false");

    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        var members = catalog["members"]!.AsArray();
        for (var id = TestCatalog.MemberCount + 1; id <= Members; id++)
            members.Add(new JsonObject { ["id"] = id, ["code"] = $"M{id:D4}", ["name"] = $"会员{id}", ["phone"] = $"139{id:D8}" });
        return catalog;
    }

    [Fact]
    public async Task EveryEventReachesAFailingAndKilledReceiverSignedAndInOrderThroughServiceKills()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var receiver = new WebhookReceiverProcess(TestScratch.NewPath("webhooks-", ".jsonl"), Misbehaviour);
        await receiver.StartAsync();
        await SubscribeAsync(receiver.Url);
        await using var service = new PatronProcess(Backend.Storage, Connection, TestCatalog.Write(Catalog()), Settings);
        await service.StartAsync();
        var cards = await FaultLoad.SellCardsAsync(service.BaseAddress, 24);
        await using var load = new FaultLoad([service.BaseAddress], cards);
        load.Start(Clients, Members);
        output.WriteLine($"{clock.Elapsed}: load started");

        var kills = new List<long>();
        var inFlight = 0;
        for (var kill = 0; kill < ServiceKills || (inFlight == 0 && kill < MaxServiceKills); kill++)
        {
            await Task.Delay(Random.Shared.Next(500, 1500));
            var at = await KillAsARequestArrivesAsync(service, receiver);
            kills.Add(at);
            await service.StartAsync();
            inFlight = InFlight(receiver.Receipts(), kills);
            output.WriteLine($"{clock.Elapsed}: service killed {(at > 0 ? "as a request arrived" : "at random")} and restarted; {inFlight} requests at the receiver cut off so far");
            if (kill % 2 == 0)
            {
                await receiver.KillAsync();
                await Task.Delay(1500);
                await receiver.StartAsync();
                output.WriteLine($"{clock.Elapsed}: receiver killed and restarted");
            }
        }
        await Task.Delay(1000);
        await load.StopAsync();
        output.WriteLine($"{clock.Elapsed}: load stopped");

        var settled = System.Diagnostics.Stopwatch.StartNew();
        while (!await WebhookInvariants.SettledAsync(App) && settled.Elapsed < TimeSpan.FromSeconds(60))
            await Task.Delay(200);
        output.WriteLine($"{clock.Elapsed}: {(await WebhookInvariants.SettledAsync(App) ? "nothing left to send" : "still sending after 60 s")}");
        await service.KillAsync();
        await receiver.KillAsync();

        output.WriteLine(await load.VerifyAsync(App, Members));
        output.WriteLine(await WebhookInvariants.VerifyAsync(App, receiver.Receipts(), Secret));
        Assert.DoesNotContain(load.Attempts, a => a.Result == AttemptResult.Unexpected);
        Assert.True(inFlight >= 1, "no kill of the service landed while a request was at the receiver");
    }

    /// <summary>The subscription, stored as an operator would make it, its secret encrypted with the service's key ring.</summary>
    private Task SubscribeAsync(Uri url) => App.QueryAsync(db =>
    {
        db.Add(new Webhook
        {
            Name = "crm", Url = url.ToString(), Events = "*", Secret = App.Services.GetRequiredService<WebhookSecrets>().Protect(Secret),
            CreatedAt = DateTimeOffset.UtcNow,
        });
        return db.SaveChangesAsync();
    });

    /// <summary>SIGKILLs the service the moment the receiver writes a request down (or after 10 s without one); the kill's unix ms, 0 if at random.</summary>
    private static async Task<long> KillAsARequestArrivesAsync(PatronProcess service, WebhookReceiverProcess receiver)
    {
        var before = Length(receiver.FilePath);
        var wait = System.Diagnostics.Stopwatch.StartNew();
        while (Length(receiver.FilePath) == before && wait.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(1);
        var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await service.KillAsync();
        return wait.Elapsed < TimeSpan.FromSeconds(10) ? at : 0;
    }

    private static long Length(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    /// <summary>Requests the receiver accepted within its hold before a kill: their 204 was still to be sent when the service died.</summary>
    private static int InFlight(IReadOnlyList<WebhookReceipt> receipts, List<long> kills) =>
        receipts.Count(r => r.Accepted && kills.Any(k => k > 0 && r.ReceivedAt <= k && k - r.ReceivedAt < HoldMilliseconds));
}

[Collection(FaultCollection.Name)]
public sealed class WebhookFaultTestsOnSqlite(ITestOutputHelper output) : WebhookFaultTests(Backend.Sqlite, output);

[Collection(FaultCollection.Name)]
public sealed class WebhookFaultTestsOnPostgres(ITestOutputHelper output) : WebhookFaultTests(Backend.Postgres, output);
