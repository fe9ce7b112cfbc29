using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Cards;

/// <summary>
/// A sold card keeps the business zone of its sale: a catalog applied later with another timeZone
/// moves the days and cycles of new sales only. The first card is sold in Shanghai (its days turn
/// at 16:00 UTC), the second after the zone became UTC.
/// </summary>
public abstract class CardZoneTests(Backend backend) : PatronTest(backend)
{
    private string _zone = "Asia/Shanghai";

    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        catalog["timeZone"] = _zone;
        return catalog;
    }

    [Fact]
    public async Task ACardSoldBeforeTheZoneChangedKeepsItsCyclesAndANewSaleFollowsTheNewZone()
    {
        var before = new OpenApiClient(App.CreateClient());
        var old = (await before.SellAsync("S-OLD", saleTime: "2026-01-05 10:00:00")).Data!;
        _zone = "UTC";
        var after = new OpenApiClient(StartApp().CreateClient()); // applies the catalog again, now in UTC
        var young = (await after.SellAsync("S-NEW", saleTime: "2026-01-05 10:00:00")).Data!;

        // useTime is read in the zone now in force, UTC. 2026-01-11 10:00 UTC is 18:00 in Shanghai, still
        // the old card's first cycle; on a UTC calendar from its begin day (01-04) it would be the second.
        var oldUse = await after.UseAsync(old["id"]!.GetValue<string>(), "U-OLD", "2026-01-11 10:00:00");
        // 2026-01-11 20:00 UTC is the new card's first cycle; in Shanghai it is already 01-12, its second.
        var youngUse = await after.UseAsync(young["id"]!.GetValue<string>(), "U-NEW", "2026-01-11 20:00:00");

        Assert.Equal(new DateTimeOffset(2026, 1, 4, 16, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), old["beginTime"]!.GetValue<long>());
        Assert.Equal(new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), young["beginTime"]!.GetValue<long>());
        Assert.Equal((0, 1), (oldUse.Code, oldUse.Data!["lastCycle"]!.GetValue<int>()));
        Assert.Equal((0, 1), (youngUse.Code, youngUse.Data!["lastCycle"]!.GetValue<int>()));
        Assert.Equal(["Asia/Shanghai", "UTC"], await App.QueryAsync(db => db.MemberCards.OrderBy(c => c.BeginTime).Select(c => c.TimeZone).ToListAsync()));
    }
}

public sealed class CardZoneTestsOnSqlite() : CardZoneTests(Backend.Sqlite);

public sealed class CardZoneTestsOnPostgres() : CardZoneTests(Backend.Postgres);
