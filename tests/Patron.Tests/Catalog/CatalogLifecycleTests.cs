using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Catalog;
using Patron.Data;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Catalog;

/// <summary>
/// The points lifecycle's settings as the catalog sets them: <c>points.expiry</c>, <c>levelReview</c>, and
/// a channel's <c>pendingDays</c> and <c>expiry</c>. The first host applies them all; a later host may apply
/// the plain test catalog, which has none.
/// </summary>
public abstract class CatalogLifecycleTests(Backend backend) : PatronTest(backend)
{
    private bool _plain;

    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        if (_plain)
            return catalog;
        catalog["points"] = new JsonObject { ["expiry"] = new JsonObject { ["afterMonths"] = 12, ["at"] = "yearEnd" } };
        catalog["levelReview"] = new JsonObject { ["everyMonths"] = 12 };
        var channels = catalog["channels"]!.AsArray();
        channels[0]!["pendingDays"] = 7;
        channels[0]!["expiry"] = new JsonObject { ["afterDays"] = 30 };
        channels[1]!["expiry"] = "none";
        return catalog;
    }

    private Task<Dictionary<string, string>> SettingsAsync(PatronApp app) =>
        app.QueryAsync(db => db.Settings.AsNoTracking().ToDictionaryAsync(s => s.Key, s => s.Value));

    private Task<Dictionary<string, (int, string?)>> ChannelsAsync(PatronApp app) =>
        app.QueryAsync(db => db.Channels.AsNoTracking().ToDictionaryAsync(c => c.Name, c => (c.PendingDays, c.Expiry)));

    private Task<string> SnapshotAsync(PatronApp app) => app.QueryAsync(async db => System.Text.Json.JsonSerializer.Serialize(new
    {
        Settings = await db.Settings.OrderBy(x => x.Key).ToListAsync(),
        Channels = await db.Channels.OrderBy(x => x.Id).ToListAsync(),
        Members = await db.Members.OrderBy(x => x.Id).ToListAsync(),
    }));

    [Fact]
    public async Task TheSettingsAreStoredAsPolicyTextAndChannelColumns()
    {
        var settings = await SettingsAsync(App);
        var channels = await ChannelsAsync(App);

        Assert.Equal("months:12:yearEnd", settings[SettingKeys.PointsExpiry]);
        Assert.Equal("12", settings[SettingKeys.LevelReviewMonths]);
        Assert.Equal((7, "days:30"), channels["hkl-test"]);
        Assert.Equal((0, "none"), channels["other"]);
        Assert.Equal((0, (string?)null), channels["cards-only"]);
    }

    [Fact]
    public async Task ApplyingTheSameCatalogAgainChangesNothing()
    {
        var before = await SnapshotAsync(App);

        var again = StartApp(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TestWorld.Start.AddDays(40)));

        Assert.Equal(before, await SnapshotAsync(again));
    }

    [Fact]
    public async Task ACatalogWithoutThemRemovesTheSettingsAndReturnsChannelsToTheirDefaults()
    {
        _plain = true;

        var plain = StartApp();

        var settings = await SettingsAsync(plain);
        Assert.False(settings.ContainsKey(SettingKeys.PointsExpiry));
        Assert.False(settings.ContainsKey(SettingKeys.LevelReviewMonths));
        Assert.Equal("Asia/Shanghai", settings[SettingKeys.TimeZone]);
        Assert.All((await ChannelsAsync(plain)).Values, c => Assert.Equal((0, (string?)null), c));
    }

    [Fact]
    public async Task ACatalogMemberStartsItsLevelWhenItIsCreated()
    {
        var members = await App.QueryAsync(db => db.Members.AsNoTracking().Select(m => new { m.LevelSince, m.CreatedAt }).ToListAsync());

        Assert.Equal(TestCatalog.MemberCount, members.Count);
        Assert.All(members, m => Assert.Equal(m.CreatedAt, m.LevelSince));
        Assert.InRange(members[0].LevelSince, TestWorld.Start.AddMinutes(-1), TestWorld.Clock.GetUtcNow());
    }
}

public sealed class CatalogLifecycleTestsOnSqlite() : CatalogLifecycleTests(Backend.Sqlite);

public sealed class CatalogLifecycleTestsOnPostgres() : CatalogLifecycleTests(Backend.Postgres);

public sealed class CatalogLifecycleValidationTests
{
    private static string Invalid(Action<JsonObject> spoil)
    {
        var catalog = TestCatalog.Build();
        spoil(catalog);
        return Assert.Throws<CatalogException>(() => CatalogFile.Load(TestCatalog.Write(catalog))).Message;
    }

    [Theory]
    [InlineData("""{"expiry": {}}""", "points.expiry: exactly one of afterDays or afterMonths")]
    [InlineData("""{"expiry": {"afterDays": 30, "afterMonths": 1, "at": "monthEnd"}}""", "points.expiry: exactly one of afterDays or afterMonths")]
    [InlineData("""{"expiry": {"afterDays": 0}}""", "points.expiry.afterDays: 1 to 36600")]
    [InlineData("""{"expiry": {"afterDays": 36601}}""", "points.expiry.afterDays: 1 to 36600")]
    [InlineData("""{"expiry": {"afterDays": 30, "at": "monthEnd"}}""", "points.expiry.at: only with afterMonths")]
    [InlineData("""{"expiry": {"afterMonths": 0, "at": "monthEnd"}}""", "points.expiry.afterMonths: 1 to 1200")]
    [InlineData("""{"expiry": {"afterMonths": 1201, "at": "yearEnd"}}""", "points.expiry.afterMonths: 1 to 1200")]
    [InlineData("""{"expiry": {"afterMonths": 12}}""", "points.expiry.at: required with afterMonths")]
    [InlineData("""{"expiry": {"afterMonths": 12, "at": "weekEnd"}}""", "points.expiry.at: required with afterMonths")]
    [InlineData("""{"expiry": {"afterDayz": 30}}""", "points.expiry: unknown field 'afterDayz'")]
    [InlineData("""{"expiry": {"afterDays": "30"}}""", "points.expiry: afterDays must be a whole number")]
    [InlineData("""{"expiry": "never"}""", "points.expiry: must be \"none\" or an object")]
    [InlineData("""{"expiry": 365}""", "points.expiry: must be \"none\" or an object")]
    [InlineData("""{"expiri": {"afterDays": 30}}""", "expiri")]
    public void ABadPointsExpiryIsNamedByItsPath(string points, string expected)
    {
        var message = Invalid(c => c["points"] = JsonNode.Parse(points));

        Assert.Contains(expected, message);
    }

    [Theory]
    [InlineData("""{"everyMonths": 0}""", "levelReview.everyMonths: required, 1 to 120")]
    [InlineData("""{"everyMonths": 121}""", "levelReview.everyMonths: required, 1 to 120")]
    [InlineData("""{}""", "levelReview.everyMonths: required, 1 to 120")]
    [InlineData("""{"every": 12}""", "every")]
    public void ABadLevelReviewIsNamedByItsPath(string review, string expected)
    {
        var message = Invalid(c => c["levelReview"] = JsonNode.Parse(review));

        Assert.Contains(expected, message);
    }

    [Theory]
    [InlineData("pendingDays", "-1", "channels[1].pendingDays: 0 to 90")]
    [InlineData("pendingDays", "91", "channels[1].pendingDays: 0 to 90")]
    [InlineData("expiry", """{"afterDays": 0}""", "channels[1].expiry.afterDays: 1 to 36600")]
    [InlineData("expiry", """{"afterMonths": 3}""", "channels[1].expiry.at: required with afterMonths")]
    [InlineData("expiry", """{"afterDays": 3, "afterMonths": 3, "at": "yearEnd"}""", "channels[1].expiry: exactly one of afterDays or afterMonths")]
    [InlineData("expiry", "\"never\"", "channels[1].expiry: must be \"none\" or an object")]
    [InlineData("expiry", """{"afterDays": 3, "none": true}""", "channels[1].expiry: unknown field 'none'")]
    public void ABadChannelLifecycleSettingIsNamedByItsPath(string field, string json, string expected)
    {
        var message = Invalid(c => c["channels"]![1]![field] = JsonNode.Parse(json));

        Assert.Contains(expected, message);
    }

    [Fact]
    public void TheGoodShapesAreTaken()
    {
        var catalog = TestCatalog.Build();
        catalog["points"] = JsonNode.Parse("""{"expiry": {"afterDays": 365}}""");
        catalog["levelReview"] = JsonNode.Parse("""{"everyMonths": 120}""");
        catalog["channels"]![0]!["expiry"] = JsonNode.Parse("""{"afterMonths": 1200, "at": "monthEnd"}""");
        catalog["channels"]![0]!["pendingDays"] = 90;
        catalog["channels"]![1]!["expiry"] = "none";
        catalog["channels"]![1]!["pendingDays"] = 0;

        var file = CatalogFile.Load(TestCatalog.Write(catalog));

        Assert.Equal("days:365", file.Points!.Expiry!.ToPolicy().ToText());
        Assert.Equal(120, file.LevelReview!.EveryMonths);
        Assert.Equal(("months:1200:monthEnd", 90), (file.Channels![0].Expiry!.ToPolicy().ToText(), file.Channels[0].PendingDays));
        Assert.Equal("none", file.Channels[1].Expiry!.ToPolicy().ToText());
    }
}
