using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Catalog;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Catalog;

/// <summary>A channel's own settings and a card's refund policy, as the catalog file sets them.</summary>
public abstract class CatalogSettingsTests(Backend backend) : PatronTest(backend)
{
    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        var channel = catalog["channels"]![1]!.AsObject();
        channel["billNumIsKey"] = true;
        channel["maxUseAgeDays"] = 2;
        channel["maxSaleAgeDays"] = 7;
        channel["rateLimit"] = new JsonObject { ["perSecond"] = 5, ["burst"] = 9 };
        catalog["cards"]![1]!["refund"] = "prorated";
        return catalog;
    }

    [Fact]
    public async Task TheSettingsAreStoredAndAnUnsetOneTakesItsDefault()
    {
        var channels = await App.QueryAsync(db => db.Channels.AsNoTracking().ToDictionaryAsync(c => c.Name));
        var policies = await App.QueryAsync(db => db.Cards.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.RefundPolicy));

        var other = channels["other"];
        Assert.Equal((true, 2, 7, (int?)5, (int?)9), (other.BillNumIsKey, other.MaxUseAgeDays, other.MaxSaleAgeDays, other.RatePerSecond, other.RateBurst));
        var plain = channels["hkl-test"];
        Assert.Equal((false, 31, 31, (int?)null, (int?)null), (plain.BillNumIsKey, plain.MaxUseAgeDays, plain.MaxSaleAgeDays, plain.RatePerSecond, plain.RateBurst));
        Assert.Equal("prorated", policies[TestCatalog.Card]);
        Assert.Equal("full", policies[TestCatalog.TwoProductCard]);
    }
}

public sealed class CatalogSettingsTestsOnSqlite() : CatalogSettingsTests(Backend.Sqlite);

public sealed class CatalogSettingsTestsOnPostgres() : CatalogSettingsTests(Backend.Postgres);

public sealed class CatalogSettingsValidationTests
{
    [Theory]
    [InlineData("maxUseAgeDays", "0", "channels[0].maxUseAgeDays")]
    [InlineData("maxUseAgeDays", "32", "channels[0].maxUseAgeDays")]
    [InlineData("maxSaleAgeDays", "0", "channels[0].maxSaleAgeDays")]
    [InlineData("maxSaleAgeDays", "400", "channels[0].maxSaleAgeDays")]
    [InlineData("rateLimit", """{"burst": 5}""", "channels[0].rateLimit.perSecond")]
    [InlineData("rateLimit", """{"perSecond": 0}""", "channels[0].rateLimit.perSecond")]
    [InlineData("rateLimit", """{"perSecond": 5, "burst": 0}""", "channels[0].rateLimit.burst")]
    [InlineData("billNumIsKey", "\"yes\"", "channels[0].billNumIsKey")]
    public void ABadChannelSettingIsNamed(string field, string json, string where)
    {
        var catalog = TestCatalog.Build();
        catalog["channels"]![0]![field] = JsonNode.Parse(json);

        var message = Assert.Throws<CatalogException>(() => CatalogFile.Load(TestCatalog.Write(catalog))).Message;

        Assert.Contains(where, message);
    }

    [Fact]
    public void AnUnknownRefundPolicyIsNamed()
    {
        var catalog = TestCatalog.Build();
        catalog["cards"]![1]!["refund"] = "sometimes";

        var message = Assert.Throws<CatalogException>(() => CatalogFile.Load(TestCatalog.Write(catalog))).Message;

        Assert.Contains("cards[1].refund", message);
    }
}
