using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Points.Lots;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Members;

/// <summary>
/// An import into a chain whose points expire: each opening balance is one lot, earned at the import
/// and expiring as the catalog's <c>points.expiry</c> says, in the business zone.
/// </summary>
public abstract class MemberImportLotsTests(Backend backend) : PatronTest(backend)
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        catalog["points"] = new JsonObject { ["expiry"] = new JsonObject { ["afterMonths"] = 12, ["at"] = "monthEnd" } };
        return catalog;
    }

    [Fact]
    public async Task EachOpeningBalanceIsOneLotExpiringAsTheCatalogSays()
    {
        var result = await ImportCommand.RunAsync(Backend.Storage, Connection,
            "id,code,balance,lifetimeEarned\n1001,IMP1001,1500,2000\n1002,IMP1002,0,\n1003,IMP1003,20,\n");

        Assert.True(result.ExitCode == 0, result.Errors);
        var lots = await App.QueryAsync(db => db.PointLots.AsNoTracking().OrderBy(l => l.MemberId).ToListAsync());
        var members = await App.QueryAsync(db => db.Members.AsNoTracking().Where(m => m.Id > 1000).ToDictionaryAsync(m => m.Id, m => m.Balance));
        Assert.Equal([1001L, 1003L], lots.Select(l => l.MemberId));
        Assert.All(lots, l => Assert.Equal(members[l.MemberId], l.Remaining));
        Assert.Equal(members.Values.Sum(), lots.Sum(l => l.Remaining));
        var earned = lots[0].EarnedAt;
        var expected = PointsExpiry.AfterMonths(12, yearEnd: false).ExpiresAt(earned, Shanghai);
        Assert.All(lots, l => Assert.Equal((earned, earned, expected, false), (l.EarnedAt, l.AvailableAt, l.ExpiresAt, l.Pending)));
        // The start of the first day of the month after next year's month: midnight in Shanghai.
        var local = TimeZoneInfo.ConvertTime(expected!.Value, Shanghai);
        var month = TimeZoneInfo.ConvertTime(earned, Shanghai).AddMonths(13);
        Assert.Equal((month.Year, month.Month, 1, TimeSpan.Zero), (local.Year, local.Month, local.Day, local.TimeOfDay));
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"and as many lots, expiring {local:yyyy-MM-dd} 00:00 Asia/Shanghai"), result.Output);
    }
}

public sealed class MemberImportLotsTestsOnSqlite() : MemberImportLotsTests(Backend.Sqlite);

public sealed class MemberImportLotsTestsOnPostgres() : MemberImportLotsTests(Backend.Postgres);
