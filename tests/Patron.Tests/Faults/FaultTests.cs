using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Faults;

/// <summary>
/// The fault tests time how fast the service answers while its database is down, so they run
/// alone, after the rest of the suite, rather than next to tests that load both cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection
{
    public const string Name = "Faults";
}

/// <summary>
/// Real service processes under real faults: eight clients add points and use cards with their
/// own keys and retry every unanswered request; meanwhile the service is SIGKILLed and
/// restarted again and again, and PostgreSQL is crashed. Afterwards nothing answered is lost and
/// nothing is counted twice (see <see cref="FaultLoad.VerifyAsync"/>), and at least one kill
/// fell between a COMMIT and its answer: the case exactly-once retries exist for.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class FaultTests(ITestOutputHelper output)
{
    private const int Clients = 8;
    private const int Cards = 24;
    internal static readonly string[] Fast = ["--RateLimit:PermitsPerSecond", "0", "--GroupCommit:AnswerDelayMilliseconds", AnswerDelay.ToString()];

    /// <summary>
    /// How long each batch's answers wait after its commit (ms): in a service that answers at once
    /// the window is microseconds wide, and four kills on a quiet machine caught nothing.
    /// </summary>
    private const int AnswerDelay = 20;

    private const int Kills = 4;

    /// <summary>SIGKILLs and restarts the service <paramref name="count"/> times; returns when each kill was sent and done, on the load's clock.</summary>
    internal static async Task<List<(TimeSpan From, TimeSpan To)>> KillRepeatedlyAsync(PatronProcess service, FaultLoad load, int count)
    {
        var kills = new List<(TimeSpan, TimeSpan)>();
        for (var kill = 0; kill < count; kill++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(400, 1200)));
            // Not back to the test's context: the kill runs on the thread that got the answer, a few
            // ms into the next batch's held answers (AnswerDelay), after its commit.
            await load.NextAnswerAsync(service.BaseAddress).ConfigureAwait(false);
            await Task.Delay(Random.Shared.Next(AnswerDelay / 4, AnswerDelay)).ConfigureAwait(false);
            var from = load.Now;
            await service.KillAsync();
            kills.Add((from, load.Now));
            await service.StartAsync();
        }
        return kills;
    }

    [Fact]
    public async Task OnSqliteTheServiceKilledFourTimesUnderLoadLosesNothingAndCountsNothingTwice()
    {
        var connection = $"Data Source={TestScratch.NewPath("fault-", ".db")}";
        var catalog = TestCatalog.Write(TestCatalog.Build());
        await using var service = new PatronProcess("sqlite", connection, catalog, Fast);
        await service.StartAsync();
        var cards = await FaultLoad.SellCardsAsync(service.BaseAddress, Cards);

        await using var load = new FaultLoad([service.BaseAddress], cards);
        load.Start(Clients, TestCatalog.MemberCount);
        var kills = await KillRepeatedlyAsync(service, load, Kills);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await load.StopAsync();
        await service.KillAsync();

        await using var reader = new PatronApp("sqlite", connection, catalogPath: null);
        output.WriteLine(await load.VerifyAsync(reader, TestCatalog.MemberCount));
        output.WriteLine(FaultLoad.DescribeKills(load, kills));
        Assert.Equal(Kills + 1, service.Starts);
        Assert.DoesNotContain(load.Attempts, a => a.Result == AttemptResult.Unexpected);
        Assert.True(load.CommittedButUnanswered >= 1, "no kill landed between a COMMIT and its answer");
    }
}

[Collection(FaultCollection.Name)]
public sealed class FaultTestsOnPostgres(ITestOutputHelper output)
{
    private const int Clients = 8;
    private const int Cards = 24;
    private static readonly string[] Fast = FaultTests.Fast;

    [Fact]
    public async Task TheServiceKilledFourTimesAndPostgresCrashedOnceUnderLoadLosesNothingAndCountsNothingTwice()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var cluster = await PostgresCluster.StartOwnAsync();
        output.WriteLine($"{clock.Elapsed}: PostgreSQL started");
        var connection = await cluster.CreateDatabaseAsync();
        var catalog = TestCatalog.Write(TestCatalog.Build());
        await using var service = new PatronProcess("postgres", connection, catalog, Fast);
        await service.StartAsync();
        output.WriteLine($"{clock.Elapsed}: service started");
        var cards = await FaultLoad.SellCardsAsync(service.BaseAddress, Cards);
        output.WriteLine($"{clock.Elapsed}: cards sold, load starts");

        await using var load = new FaultLoad([service.BaseAddress], cards);
        load.Start(Clients, TestCatalog.MemberCount);

        var kills = await FaultTests.KillRepeatedlyAsync(service, load, 2);
        output.WriteLine($"{load.Now}: restarted after the first {kills.Count} kills");

        // PostgreSQL crashes under the running service, stays down for 3 s, and comes back.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var pid = service.ProcessId;
        await cluster.StopImmediateAsync();
        var down = load.Now;
        await Task.Delay(TimeSpan.FromSeconds(3));
        var up = load.Now;
        await cluster.StartAgainAsync();
        var restarted = load.Now;
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.True(service.IsRunning && service.ProcessId == pid, "the service rode the database crash out without a restart");

        kills.AddRange(await FaultTests.KillRepeatedlyAsync(service, load, 2));
        await Task.Delay(TimeSpan.FromSeconds(2));
        output.WriteLine($"{load.Now}: restarted after the last kill");
        await load.StopAsync();
        output.WriteLine($"{load.Now}: every request answered");
        await service.KillAsync();

        await using var reader = new PatronApp("postgres", connection, catalogPath: null);
        output.WriteLine(await load.VerifyAsync(reader, TestCatalog.MemberCount));
        output.WriteLine(FaultLoad.DescribeKills(load, kills));
        Assert.DoesNotContain(load.Attempts, a => a.Result == AttemptResult.Unexpected);
        Assert.True(load.CommittedButUnanswered >= 1, "no kill landed between a COMMIT and its answer");

        // While the database was down the same process answered, in its envelope, at once.
        Assert.NotEqual(0, pid);
        var duringOutage = load.Attempts.Where(a => a.Start >= down && a.Start + a.Elapsed <= up).ToList();
        output.WriteLine($"while PostgreSQL was down: {duringOutage.Count} attempts, " +
                         $"slowest {duringOutage.Select(a => a.Elapsed.TotalMilliseconds).DefaultIfEmpty().Max():F0} ms");
        Assert.True(duringOutage.Count >= Clients, $"only {duringOutage.Count} attempts were answered during the outage");
        Assert.All(duringOutage, a =>
        {
            Assert.Equal(AttemptResult.Unavailable, a.Result);
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, a.Status);
        });
        var slow = load.Attempts.Where(a => a.Start >= down && a.Start < up && a.Elapsed > TimeSpan.FromSeconds(1)).ToList();
        Assert.True(slow.Count == 0, $"{slow.Count} attempts during the outage took over 1 s, e.g. {slow.FirstOrDefault()}");

        // And it recovered by itself: answers succeeded soon after PostgreSQL came back.
        var firstSuccess = load.Attempts.Where(a => a.Start >= restarted && a.Result == AttemptResult.Answered).Min(a => a.Start + a.Elapsed);
        output.WriteLine($"first success {(firstSuccess - restarted).TotalMilliseconds:F0} ms after PostgreSQL was back");
        Assert.True(firstSuccess - restarted < TimeSpan.FromSeconds(3), $"first success {firstSuccess - restarted} after the restart");
    }
}

/// <summary>
/// While PostgreSQL is down, every API answers at once in its own envelope with HTTP 503 and
/// Retry-After, and the same host serves again when the database is back.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class DatabaseDownTestsOnPostgres
{
    [Fact]
    public async Task EveryApiAnswers503AtOnceWhileTheDatabaseIsDownAndServesAgainWhenItIsBack()
    {
        await using var cluster = await PostgresCluster.StartOwnAsync();
        await using var app = new PatronApp("postgres", await cluster.CreateDatabaseAsync(), TestCatalog.Write(TestCatalog.Build()));
        var partner = app.CreateClient();
        partner.DefaultRequestHeaders.Authorization = new("Bearer", TestCatalog.ApiKey);
        var operatorClient = app.CreateClient();
        operatorClient.DefaultRequestHeaders.Authorization = new("Bearer", TestCatalog.AdminToken);
        var openApi = new OpenApiClient(app.CreateClient());
        Assert.Equal(0, (await partner.AddPointsAsync(1, "P", 5, "before", key: "before")).Errcode);

        await cluster.StopImmediateAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var round = 0; round < 3; round++) // the pool's broken connections first, then refused ones
        {
            var add = await partner.AddPointsAsync(1, "P", 5, $"down-{round}", key: $"down-{round}");
            Assert.Equal((System.Net.HttpStatusCode.ServiceUnavailable, 5000), (add.Status, add.Errcode));
            Assert.Contains("unavailable", add.Errmsg);

            var use = await openApi.UseAsync("NO-SUCH-CARD", $"down-{round}", null);
            Assert.Equal((System.Net.HttpStatusCode.ServiceUnavailable, 5000), (use.Status, use.Code));

            using var member = await operatorClient.GetAsync("/api/v1/members/1");
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, member.StatusCode);
            Assert.Equal("1", member.Headers.RetryAfter?.ToString());
            Assert.Equal("application/problem+json", member.Content.Headers.ContentType?.MediaType);

            using var health = await app.CreateClient().GetAsync("/health");
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, health.StatusCode);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"twelve calls against a stopped database took {clock.Elapsed}");

        await cluster.StartAgainAsync();
        var again = await partner.AddPointsAsync(1, "P", 5, "after", key: "after");
        for (var retry = 0; again.Errcode == 5000 && retry < 20; retry++)
        {
            await Task.Delay(100);
            again = await partner.AddPointsAsync(1, "P", 5, "after", key: "after");
        }
        Assert.Equal(0, again.Errcode);
        Assert.Equal(10, again.TagLong("ValuePointAfter"));
    }
}

/// <summary>
/// Three service processes on one PostgreSQL, started together on an empty database, with the
/// load spread across them (each retry goes to the next instance) and each SIGKILLed and
/// restarted three times, independently of the others: every invariant of the fault test holds.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class SeveralInstancesTestsOnPostgres(ITestOutputHelper output)
{
    [Fact]
    public async Task ThreeProcessesOnOnePostgresEachKilledThreeTimesShareTheLoadAndKeepEveryInvariant()
    {
        var connection = await Backend.Postgres.NewDatabaseAsync();
        var catalog = TestCatalog.Write(TestCatalog.Build());
        var services = Enumerable.Range(0, 3).Select(_ => new PatronProcess("postgres", connection, catalog, FaultTests.Fast)).ToArray();
        try
        {
            await Task.WhenAll(services.Select(s => s.StartAsync()));
            var sold = await Task.WhenAll(services.Select(s => FaultLoad.SellCardsAsync(s.BaseAddress, 8, $"S{s.Port}-")));
            var cards = sold.SelectMany(c => c).ToArray();

            await using var load = new FaultLoad(services.Select(s => s.BaseAddress), cards);
            load.Start(clients: 24, TestCatalog.MemberCount);
            // Each instance killed three times, all three at once: nine kills in the time of three.
            var kills = (await Task.WhenAll(services.Select(s => FaultTests.KillRepeatedlyAsync(s, load, 3)))).SelectMany(k => k).ToList();
            await Task.Delay(TimeSpan.FromSeconds(2));
            await load.StopAsync();

            await using var reader = new PatronApp("postgres", connection, catalogPath: null);
            output.WriteLine(await load.VerifyAsync(reader, TestCatalog.MemberCount));
            output.WriteLine(FaultLoad.DescribeKills(load, kills));
            Assert.DoesNotContain(load.Attempts, a => a.Result == AttemptResult.Unexpected);
        Assert.True(load.CommittedButUnanswered >= 1, "no kill landed between a COMMIT and its answer");
            foreach (var service in services)
            {
                var answered = load.Attempts.Count(a => a.Target == service.BaseAddress && a.Result == AttemptResult.Answered);
                output.WriteLine($"{service.BaseAddress}: {answered} answers");
                Assert.True(answered > 50, $"{service.BaseAddress} answered only {answered} requests");
            }
            Assert.Equal(1, await reader.QueryAsync(db => db.DataProtectionKeys.CountAsync()));
            Assert.Equal(1, await reader.QueryAsync(db => db.Channels.CountAsync(c => c.Name == "hkl-test")));
        }
        finally
        {
            foreach (var service in services)
                await service.DisposeAsync();
        }
    }
}
