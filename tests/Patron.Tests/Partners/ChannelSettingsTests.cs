using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Partners;

/// <summary>
/// A channel's own settings through /api/v1 and the console, and its own rate limit: hkl-test is
/// limited to 1 call a second after a burst of 2; other keeps the service's default (200, 400).
/// </summary>
public abstract class ChannelSettingsTests(Backend backend) : PatronTest(backend)
{
    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        catalog["channels"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "hkl-test")!["rateLimit"] =
            new JsonObject { ["perSecond"] = 1, ["burst"] = 2 };
        return catalog;
    }

    private HttpClient Other => PartnerClient(App, TestCatalog.OtherApiKey);

    private async Task<(HttpStatusCode Status, JsonNode? Body)> PutAsync(string channel, object body)
    {
        using var response = await OperatorClient().PutAsJsonAsync($"/api/v1/channels/{channel}", body);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null);
    }

    private async Task<JsonNode> ChannelAsync(string name) =>
        JsonNode.Parse(await OperatorClient().GetStringAsync("/api/v1/channels"))!.AsArray().Single(c => c!["name"]!.GetValue<string>() == name)!;

    /// <summary>
    /// Sends <paramref name="count"/> adds at once and returns the answers with the seconds they took:
    /// a bucket refills while a loaded machine serves them, so the tests allow a token per second
    /// elapsed rather than timing calls one by one.
    /// </summary>
    private static async Task<(List<Envelope> Answers, int Refills)> BurstAsync(HttpClient client, int member, string prefix, int count = 20)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, count).Select(i => client.AddPointsAsync(member, "P", 1, $"{prefix}-{i}")));
        return ([.. answers], (int)Math.Ceiling(clock.Elapsed.TotalSeconds));
    }

    [Fact]
    public async Task AChannelsOwnLimitRefusesCallsPastItsBurstWhileAnotherChannelIsNotLimited()
    {
        var (own, refills) = await BurstAsync(Partner, 1, "own");
        var other = new List<Envelope>();
        for (var i = 0; i < 10; i++)
            other.Add(await Other.AddPointsAsync(2, "P", 1, $"other-{i}"));

        var taken = own.Count(a => a.Errcode == 0);
        Assert.InRange(taken, 2, 2 + refills);
        Assert.All(own.Where(a => a.Errcode != 0), a => Assert.Equal((1007, HttpStatusCode.TooManyRequests), (a.Errcode, a.Status)));
        Assert.Contains("1 calls per second", own.First(a => a.Errcode != 0).Errmsg);
        Assert.All(other, a => Assert.Equal(0, a.Errcode));
        Assert.Equal(taken, await BalanceAsync(1));
    }

    [Fact]
    public async Task AChangedLimitTakesEffectAndBurstDefaultsToPerSecond()
    {
        Assert.Equal(0, (await Other.AddPointsAsync(2, "P", 1, "before")).Errcode);

        var (status, _) = await PutAsync("other", new { rateLimit = new { perSecond = 1 } });
        var (answers, refills) = await BurstAsync(Other, 2, "after");

        Assert.Equal(HttpStatusCode.OK, status);
        // Under the default (a burst of 400) all 20 would pass; a burst of perSecond lets one through, and a token a second after.
        Assert.InRange(answers.Count(a => a.Errcode == 0), 1, 1 + refills);
        Assert.All(answers.Where(a => a.Errcode != 0), a => Assert.Equal(1007, a.Errcode));
    }

    [Fact]
    public async Task SettingsRoundTripThroughTheApiAndAreAudited()
    {
        var (status, body) = await PutAsync("other", new { billNumIsKey = true, maxUseAgeDays = 2, maxSaleAgeDays = 7, rateLimit = new { perSecond = 50, burst = 80 } });
        var listed = await ChannelAsync("other");
        var (cleared, _) = await PutAsync("other", new { rateLimit = new { } });
        var afterClear = await ChannelAsync("other");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (status, cleared));
        Assert.Equal(body!.ToJsonString(), listed.ToJsonString());
        Assert.Equal((true, 2, 7, 50, 80), (listed["billNumIsKey"]!.GetValue<bool>(), listed["maxUseAgeDays"]!.GetValue<int>(),
            listed["maxSaleAgeDays"]!.GetValue<int>(), listed["rateLimit"]!["perSecond"]!.GetValue<int>(), listed["rateLimit"]!["burst"]!.GetValue<int>()));
        Assert.Null(afterClear["rateLimit"]);
        Assert.Equal((true, 2), (afterClear["billNumIsKey"]!.GetValue<bool>(), afterClear["maxUseAgeDays"]!.GetValue<int>()));
        var audit = await App.QueryAsync(db => db.AuditLog.Where(a => a.Action == "channel.edit").OrderBy(a => a.Id).Select(a => a.After).ToListAsync());
        Assert.Contains("\"maxSaleAgeDays\":7", audit[0]);
    }

    [Theory]
    [InlineData("""{"maxUseAgeDays":0}""", "maxUseAgeDays")]
    [InlineData("""{"maxUseAgeDays":32}""", "maxUseAgeDays")]
    [InlineData("""{"maxSaleAgeDays":-1}""", "maxSaleAgeDays")]
    [InlineData("""{"rateLimit":{"perSecond":0}}""", "rateLimit.perSecond")]
    [InlineData("""{"rateLimit":{"burst":5}}""", "rateLimit.perSecond")]
    [InlineData("""{"rateLimit":{"perSecond":5,"burst":100001}}""", "rateLimit.burst")]
    public async Task SettingsOutsideTheCatalogsLimitsAreAValidationProblemAndChangeNothing(string body, string field)
    {
        var before = (await ChannelAsync("other")).ToJsonString();

        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await OperatorClient().PutAsync("/api/v1/channels/other", content);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(problem["errors"]![field]);
        Assert.Equal(before, (await ChannelAsync("other")).ToJsonString());
    }

    [Fact]
    public async Task TheConsoleFormSavesTheSettingsAndShowsAProblemOnThePage()
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);
        var page = await session.Http.GetStringAsync("/console/channels");
        Assert.Contains("同一单据号的第二次加分也会得到第一次的结果且不再计入", page); // what billNumIsKey means, by its checkbox (zh-CN by default)

        async Task<string> PostAsync(Dictionary<string, string> fields)
        {
            fields["__RequestVerificationToken"] = await session.FormTokenAsync("/console/channels");
            using var response = await session.Http.PostAsync("/console/channels?handler=Settings&name=other", new FormUrlEncodedContent(fields));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }
        await PostAsync(new() { ["billNumIsKey"] = "true", ["maxUseAgeDays"] = "3", ["maxSaleAgeDays"] = "4", ["perSecond"] = "9", ["burst"] = "" });
        var saved = await ChannelAsync("other");
        var refused = await PostAsync(new() { ["maxUseAgeDays"] = "40", ["maxSaleAgeDays"] = "x", ["perSecond"] = "", ["burst"] = "" });

        Assert.Equal((true, 3, 4, 9), (saved["billNumIsKey"]!.GetValue<bool>(), saved["maxUseAgeDays"]!.GetValue<int>(),
            saved["maxSaleAgeDays"]!.GetValue<int>(), saved["rateLimit"]!["perSecond"]!.GetValue<int>()));
        Assert.Contains("maxUseAgeDays: 1 to 31", refused);
        Assert.Contains("maxSaleAgeDays: 1 to 31", refused);
        Assert.Equal(saved.ToJsonString(), (await ChannelAsync("other")).ToJsonString());
    }

    [Fact]
    public async Task AViewerSeesTheSettingsWithoutAForm()
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.ViewerUser, TestCatalog.ViewerPassword);

        var page = await session.Http.GetStringAsync("/console/channels");

        Assert.Contains("1/s, burst 2", page); // hkl-test's own limit
        Assert.Contains("默认限流", page);       // the others keep the default
        Assert.DoesNotContain("handler=Settings", page);
    }
}

public sealed class ChannelSettingsTestsOnSqlite() : ChannelSettingsTests(Backend.Sqlite);

public sealed class ChannelSettingsTestsOnPostgres() : ChannelSettingsTests(Backend.Postgres);
