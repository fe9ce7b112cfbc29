using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Patron.Points;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points;

/// <summary>
/// Every view of the ledger shows what a row did to lifetime and pending points and what a reversal
/// could not take (its shortfall). The rows are written here directly, as the points decider would.
/// </summary>
public abstract class LedgerColumnsTests(Backend backend) : PatronTest(backend)
{
    protected override bool LedgerRowsHaveTheirEvents => false; // it writes rows of its own

    private const long Member = 11;

    /// <summary>An earning (pending), its activation, a spend, then a reversal of 500 that found only 120.</summary>
    private async Task SeedAsync()
    {
        var at = TestWorld.Clock.GetUtcNow();
        PointEntry Row(string type, string bill, long change, long before, long after, long earned, long pendingValue, long shortfall, int minute) => new()
        {
            MemberId = Member, BusiType = type, BusiBillNum = bill, ChangeValue = change, BalanceBefore = before, BalanceAfter = after,
            LevelBefore = 1, LevelAfter = 1, Actor = "hkl-test", CreatedAt = at.AddMinutes(minute - 10),
            Earned = earned, PendingValue = pendingValue, Shortfall = shortfall,
        };
        await App.QueryAsync(db =>
        {
            db.PointEntries.AddRange(
                Row("S", "L-1", 0, 0, 0, 500, 500, 0, 1),
                Row("A", "L-1", 500, 0, 500, 0, -500, 0, 2),
                Row("E", "L-2", -380, 500, 120, 0, 0, 0, 3),
                Row("S", "L-1", -120, 120, 0, -500, 0, 380, 4));
            return db.SaveChangesAsync();
        });
    }

    [Fact]
    public async Task TheLedgerListingShowsEarnedPendingValueAndShortfall()
    {
        await SeedAsync();

        var page = (await OperatorClient().GetFromJsonAsync<JsonObject>($"/api/v1/members/{Member}/points"))!;

        var rows = page["items"]!.AsArray();
        Assert.Equal(
            ["-120|-500|0|380", "-380|0|0|0", "500|0|-500|0", "0|500|500|0"],
            rows.Select(r => string.Join("|", new[] { "changeValue", "earned", "pendingValue", "shortfall" }.Select(f => r![f]!.GetValue<long>()))));
    }

    [Fact]
    public async Task TheCsvKeepsItsColumnsAndAddsEarnedPendingValueAndShortfallAtTheEnd()
    {
        await SeedAsync();

        var csv = (await OperatorClient().GetStringAsync($"/api/v1/members/{Member}/points.csv")).TrimStart('\uFEFF');

        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("AutoId,CreatedAt,BusiType,BusiBillNum,ChangeValue,BalanceBefore,BalanceAfter,LevelBefore,LevelAfter,Actor,Earned,PendingValue,Shortfall",
            lines[0]);
        Assert.Equal(
            ["S,L-1,0,0,0,1,1,hkl-test,500,500,0", "A,L-1,500,0,500,1,1,hkl-test,0,-500,0", "E,L-2,-380,500,120,1,1,hkl-test,0,0,0",
                "S,L-1,-120,120,0,1,1,hkl-test,-500,0,380"],
            lines.Skip(1).Select(l => string.Join(",", l.Split(',').Skip(2))));
    }

    [Fact]
    public async Task TheConsoleLedgerShowsPendingAndShortfall()
    {
        await SeedAsync();
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.ViewerUser, TestCatalog.ViewerPassword);

        var html = await session.Http.GetStringAsync($"/console/members/{Member}?culture=en");

        var ledger = Regex.Match(html, "<table id=\"ledger\">(.*?)</table>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains("<th class=\"num\">Pending</th><th class=\"num\">Shortfall</th>", ledger);
        Assert.Equal(["380", "", "", ""], Regex.Matches(ledger, "<td class=\"num shortfall\">(.*?)</td>").Select(m => m.Groups[1].Value));
        Assert.Equal(["", "", "-500", "+500"], Regex.Matches(ledger, "<td class=\"num pending-value\">(.*?)</td>").Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)));
    }
}

public sealed class LedgerColumnsTestsOnSqlite() : LedgerColumnsTests(Backend.Sqlite);

public sealed class LedgerColumnsTestsOnPostgres() : LedgerColumnsTests(Backend.Postgres);
