using System.Text.Json.Nodes;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points.Lots;

/// <summary>The catalog's terms reach the lots: its expiry, and a channel's own expiry and pendingDays.</summary>
public abstract class CatalogTermsTests(Backend backend) : LotTestBase(backend)
{
    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        catalog["points"] = new JsonObject { ["expiry"] = new JsonObject { ["afterDays"] = 30 } };
        var channels = catalog["channels"]!.AsArray();
        channels.Single(c => (string)c!["name"]! == "hkl-test")!["expiry"] = "none";
        channels.Single(c => (string)c!["name"]! == "other")!["pendingDays"] = 3;
        return catalog;
    }

    [Fact]
    public async Task AChannelsOwnTermsOverrideTheCatalogs()
    {
        var other = PartnerClient(App, TestCatalog.OtherApiKey);
        await Partner.AddPointsAsync(1, "P", 100, "NEVER");
        var pending = await other.AddPointsAsync(1, "P", 40, "LATER");

        var lots = await LotsAsync(1);
        Assert.Null(lots[0].ExpiresAt);
        Assert.True(lots[1].Pending);
        // Three days pending from 2026-02-04 12:30, then 30 days valid: through 2026-03-09.
        Assert.Equal(new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.FromHours(8)), lots[1].ExpiresAt);
        Assert.Contains("pending", pending.Errmsg);
        Assert.Equal(100, await BalanceAsync(1));
    }
}

public sealed class CatalogTermsTestsOnSqlite() : CatalogTermsTests(Backend.Sqlite);

public sealed class CatalogTermsTestsOnPostgres() : CatalogTermsTests(Backend.Postgres);
