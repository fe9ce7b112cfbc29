using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Partners;

/// <summary>A channel's <c>pendingDays</c> and <c>expiry</c> through /api/v1 and the console's channels page.</summary>
public abstract class ChannelLifecycleSettingsTests(Backend backend) : PatronTest(backend)
{
    private async Task<HttpStatusCode> PutAsync(string body)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await OperatorClient().PutAsync("/api/v1/channels/other", content);
        return response.StatusCode;
    }

    private async Task<JsonNode> OtherAsync() =>
        JsonNode.Parse(await OperatorClient().GetStringAsync("/api/v1/channels"))!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "other")!;

    private Task<(int, string?)> StoredAsync() =>
        App.QueryAsync(db => db.Channels.AsNoTracking().Where(c => c.Name == "other").Select(c => new ValueTuple<int, string?>(c.PendingDays, c.Expiry)).SingleAsync());

    private static (int, string?) Listed(JsonNode channel) => (channel["pendingDays"]!.GetValue<int>(), channel["expiry"]?.GetValue<string>());

    [Fact]
    public async Task PendingDaysAndExpiryRoundTripThroughTheApiAndAreAudited()
    {
        var fresh = Listed(await OtherAsync());
        var set = await PutAsync("""{"pendingDays": 5, "expiry": "months:0012:yearEnd"}""");
        var afterSet = (Listed(await OtherAsync()), await StoredAsync());
        var untouched = await PutAsync("""{"billNumIsKey": true}""");
        var afterUntouched = Listed(await OtherAsync());
        var never = await PutAsync("""{"expiry": "none"}""");
        var afterNever = Listed(await OtherAsync());
        var catalogs = await PutAsync("""{"expiry": "", "pendingDays": 0}""");
        var afterCatalogs = await StoredAsync();

        Assert.Equal((0, (string?)null), fresh);
        Assert.All([set, untouched, never, catalogs], s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(((5, "months:12:yearEnd"), (5, "months:12:yearEnd")), afterSet);
        Assert.Equal((5, "months:12:yearEnd"), afterUntouched);
        Assert.Equal((5, "none"), afterNever);
        Assert.Equal((0, (string?)null), afterCatalogs);
        var audit = await App.QueryAsync(db => db.AuditLog.Where(a => a.Action == "channel.edit").OrderBy(a => a.Id).Select(a => a.After).FirstAsync());
        Assert.Contains("\"pendingDays\":5", audit);
        Assert.Contains("\"expiry\":\"months:12:yearEnd\"", audit);
    }

    [Theory]
    [InlineData("""{"pendingDays": -1}""", "pendingDays")]
    [InlineData("""{"pendingDays": 91}""", "pendingDays")]
    [InlineData("""{"expiry": "days:0"}""", "expiry")]
    [InlineData("""{"expiry": "days:36601"}""", "expiry")]
    [InlineData("""{"expiry": "months:1201:monthEnd"}""", "expiry")]
    [InlineData("""{"expiry": "months:12"}""", "expiry")]
    [InlineData("""{"expiry": "months:12:weekEnd"}""", "expiry")]
    [InlineData("""{"expiry": "weeks:3"}""", "expiry")]
    [InlineData("""{"expiry": "days:-5"}""", "expiry")]
    [InlineData("""{"expiry": "never", "pendingDays": 3}""", "expiry")]
    public async Task ABadValueIsAValidationProblemNamingItsFieldAndChangesNothing(string body, string field)
    {
        Assert.Equal(HttpStatusCode.OK, await PutAsync("""{"pendingDays": 2, "expiry": "days:30"}"""));
        var before = (await OtherAsync()).ToJsonString();

        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await OperatorClient().PutAsync("/api/v1/channels/other", content);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(problem["errors"]![field]);
        Assert.Equal(before, (await OtherAsync()).ToJsonString());
        Assert.Equal((2, "days:30"), await StoredAsync());
    }

    [Fact]
    public async Task TheConsoleFormSavesThemRefusesBadOnesOnThePageAndABlankExpiryIsTheCatalogs()
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);
        Assert.Contains("积分待生效天数", await session.Http.GetStringAsync("/console/channels"));

        async Task<string> PostAsync(string pendingDays, string expiry)
        {
            var fields = new Dictionary<string, string>
            {
                ["maxUseAgeDays"] = "31", ["maxSaleAgeDays"] = "31", ["perSecond"] = "", ["burst"] = "",
                ["pendingDays"] = pendingDays, ["expiry"] = expiry,
                ["__RequestVerificationToken"] = await session.FormTokenAsync("/console/channels"),
            };
            using var response = await session.Http.PostAsync("/console/channels?handler=Settings&name=other", new FormUrlEncodedContent(fields));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }

        await PostAsync("3", " days:30 ");
        var saved = await StoredAsync();
        var refused = await PostAsync("91", "forever");
        var afterRefused = await StoredAsync();
        var notNumber = await PostAsync("x", "days:30");
        await PostAsync("4", "");
        var blank = await StoredAsync();

        Assert.Equal((3, "days:30"), saved);
        Assert.Contains("pendingDays: 0 to 90", refused);
        Assert.Contains("expiry: none, days:N", refused);
        Assert.Contains("pendingDays: 0 to 90", notNumber);
        Assert.Equal(saved, afterRefused);
        Assert.Equal((4, (string?)null), blank);
    }

    [Fact]
    public async Task AViewerSeesThemWithoutAForm()
    {
        Assert.Equal(HttpStatusCode.OK, await PutAsync("""{"pendingDays": 6, "expiry": "months:3:monthEnd"}"""));
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.ViewerUser, TestCatalog.ViewerPassword);

        var page = await session.Http.GetStringAsync("/console/channels");

        Assert.Contains("待生效 6 d", page);
        Assert.Contains("months:3:monthEnd", page);
        Assert.Contains("积分过期: 按目录设置", page); // the channels left to the catalog
    }
}

public sealed class ChannelLifecycleSettingsTestsOnSqlite() : ChannelLifecycleSettingsTests(Backend.Sqlite);

public sealed class ChannelLifecycleSettingsTestsOnPostgres() : ChannelLifecycleSettingsTests(Backend.Postgres);
