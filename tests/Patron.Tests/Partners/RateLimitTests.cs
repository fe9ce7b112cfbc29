using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Partners;

public abstract class RateLimitTests(Backend backend) : PatronTest(backend)
{
    private const int Burst = 5;

    // One call a second after a burst of five: slow enough that the bucket cannot refill during a test.
    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.UseSetting("RateLimit:PermitsPerSecond", "1").UseSetting("RateLimit:Burst", Burst.ToString());

    private OpenApiClient OpenApi => new(App.CreateClient());

    [Fact]
    public async Task PointAddOverTheLimitIs429WithErrcode1007AndWritesNothing()
    {
        var answers = new List<Envelope>();
        for (var i = 0; i < Burst + 3; i++)
            answers.Add(await Partner.AddPointsAsync(1, "P", 1, $"r-{i}"));

        var ok = answers.Count(a => a.Errcode == 0);
        var limited = answers.Where(a => a.Errcode != 0).ToList();
        Assert.InRange(ok, Burst, Burst + 1); // one refill may land while the calls run
        Assert.All(limited, a => Assert.Equal((HttpStatusCode.TooManyRequests, 1007), (a.Status, a.Errcode)));
        Assert.All(limited, a => Assert.Contains("rate limit", a.Errmsg));
        Assert.Equal(ok, await LedgerCountAsync());
        Assert.Equal(ok, await BalanceAsync(1));
    }

    [Fact]
    public async Task TheAnswerCarriesRetryAfter()
    {
        for (var i = 0; i < Burst + 1; i++)
            await Partner.AddPointsAsync(1, "P", 1, $"r-{i}");

        using var request = new HttpRequestMessage(HttpMethod.Post, PointsWireClient.PointAdd)
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { MemberId = 1, BusiType = "P", BusiBillNum = "late", ChangeValue = 1 }),
        };
        using var response = await Partner.SendAsync(request);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task LevelSetSharesTheChannelsLimit()
    {
        for (var i = 0; i < Burst + 1; i++)
            await Partner.AddPointsAsync(1, "P", 1, $"r-{i}");

        var set = await Partner.PostRawAsync(PointsWireClient.LevelSet, """{"OnlyUpTo":"0","LevelId":64,"MemberList":[2]}""", "application/json");

        Assert.Equal((HttpStatusCode.TooManyRequests, 1007), (set.Status, set.Errcode));
        Assert.Equal(1, await App.QueryAsync(db => db.Members.Where(m => m.Id == 2).Select(m => (int)m.LevelId).SingleAsync()));
    }

    [Fact]
    public async Task EachChannelHasItsOwnBucket()
    {
        for (var i = 0; i < Burst + 1; i++)
            await Partner.AddPointsAsync(1, "P", 1, $"r-{i}");

        var other = await PartnerClient(App, TestCatalog.OtherApiKey).AddPointsAsync(2, "P", 1);

        Assert.Equal(0, other.Errcode);
    }

    [Fact]
    public async Task AnUnknownKeyDoesNotSpendAChannelsAllowance()
    {
        var strangers = PartnerClient(App, "pk_nobody_knows_this");
        for (var i = 0; i < Burst * 2; i++)
            Assert.Equal(1001, (await strangers.AddPointsAsync(1, "P", 1)).Errcode);

        Assert.Equal(0, (await Partner.AddPointsAsync(1, "P", 1)).Errcode);
    }

    [Fact]
    public async Task TheOpenApiOverTheLimitIs429WithCode1007AndSellsNothing()
    {
        var answers = new List<OpenApiAnswer>();
        for (var i = 0; i < Burst + 3; i++)
            answers.Add(await OpenApi.SellAsync($"S-{i}"));

        var ok = answers.Count(a => a.Code == 0);
        var limited = answers.Where(a => a.Code != 0).ToList();
        Assert.InRange(ok, Burst, Burst + 1);
        Assert.All(limited, a => Assert.Equal((HttpStatusCode.TooManyRequests, 1007), (a.Status, a.Code)));
        Assert.All(limited, a => Assert.Null(a.Data));
        Assert.Equal(ok, await App.QueryAsync(db => db.CardSales.CountAsync()));
    }

    [Fact]
    public async Task EnvelopesThatDoNotDecryptDoNotSpendTheChannelsAllowance()
    {
        var forger = new OpenApiClient(App.CreateClient()) { Key = "not-the-key" };
        for (var i = 0; i < Burst * 2; i++)
            Assert.Equal(1003, (await forger.SellAsync($"F-{i}")).Code);

        Assert.Equal(0, (await OpenApi.SellAsync("S-1")).Code);
    }

    [Fact]
    public async Task TheBucketRefills()
    {
        for (var i = 0; i < Burst + 1; i++)
            await Partner.AddPointsAsync(1, "P", 1, $"r-{i}");

        await Task.Delay(TimeSpan.FromSeconds(1.5));

        Assert.Equal(0, (await Partner.AddPointsAsync(1, "P", 1, "after")).Errcode);
    }
}

public sealed class RateLimitTestsOnSqlite() : RateLimitTests(Backend.Sqlite);

public sealed class RateLimitTestsOnPostgres() : RateLimitTests(Backend.Postgres);

/// <summary>0 turns the limit off: a benchmark pushing thousands of calls a second from one channel.</summary>
public sealed class RateLimitOffTests() : PatronTest(Backend.Sqlite)
{
    protected override void ConfigureHost(IWebHostBuilder builder) => builder.UseSetting("RateLimit:PermitsPerSecond", "0");

    [Fact]
    public async Task ZeroPermitsPerSecondTurnsTheLimitOff()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 450).Select(i => Partner.AddPointsAsync(1, "P", 1, $"b-{i}")));

        Assert.All(answers, a => Assert.Equal(0, a.Errcode));
    }
}
