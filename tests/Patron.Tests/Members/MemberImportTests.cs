using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Members;

/// <summary><c>--import members.csv</c>, run as a process against the test's database, read back through the API.</summary>
public abstract class MemberImportTests(Backend backend) : PatronTest(backend)
{
    private const string Header = "id,code,name,phone,balance,lifetimeEarned,level\n";

    private Task<ImportCommand.Result> ImportAsync(string csv) => ImportCommand.RunAsync(Backend.Storage, Connection, csv);

    [Fact]
    public async Task AGoodFileImportsMembersWithTheirBalanceLevelAndOpeningLedgerRow()
    {
        var result = await ImportAsync(Header +
            "1001,IMP1001,\"Li, \"\"Lei\"\"\",13900001001,1500,2000,\n" +
            "1002,IMP1002,,,0,,\n" +
            "1003,IMP1003,王五,,20,,64\n");

        Assert.True(result.ExitCode == 0, result.Errors);
        Assert.Contains("imported 3 members and 2 opening ledger rows", result.Output);
        var admin = OperatorClient();
        var first = await admin.GetFromJsonNodeAsync("/api/v1/members/1001");
        Assert.Equal(("IMP1001", "Li, \"Lei\"", "13900001001"), (first["code"]!.GetValue<string>(), first["name"]!.GetValue<string>(), first["phone"]!.GetValue<string>()));
        Assert.Equal((1500L, 2000L, 64), (first["balance"]!.GetValue<long>(), first["lifetimeEarned"]!.GetValue<long>(), first["level"]!["id"]!.GetValue<int>()));
        var second = await admin.GetFromJsonNodeAsync("/api/v1/members/1002");
        Assert.Equal((0L, 1), (second["balance"]!.GetValue<long>(), second["level"]!["id"]!.GetValue<int>()));
        var third = await admin.GetFromJsonNodeAsync("/api/v1/members/1003");
        Assert.Equal((20L, 20L, 64), (third["balance"]!.GetValue<long>(), third["lifetimeEarned"]!.GetValue<long>(), third["level"]!["id"]!.GetValue<int>()));

        var ledger = (await admin.GetFromJsonNodeAsync("/api/v1/members/1001/points"))["items"]!.AsArray();
        var opening = Assert.Single(ledger)!;
        Assert.Equal(("O", 1500L, 0L, 1500L, "import"), (opening["busiType"]!.GetValue<string>(), opening["changeValue"]!.GetValue<long>(),
            opening["balanceBefore"]!.GetValue<long>(), opening["balanceAfter"]!.GetValue<long>(), opening["actor"]!.GetValue<string>()));
        Assert.StartsWith("IMP-", opening["busiBillNum"]!.GetValue<string>());
        Assert.Empty((await admin.GetFromJsonNodeAsync("/api/v1/members/1002/points"))["items"]!.AsArray());

        // The service's writers take the imported balance as it is.
        var added = await Partner.AddPointsAsync(1001, "P", 10, "T-IMPORT");
        Assert.Equal((0, 1500L, 1510L), (added.Errcode, added.TagLong("ValuePointBefore"), added.TagLong("ValuePointAfter")));
    }

    [Fact]
    public async Task WithoutAnExpiryEachOpeningBalanceIsOneLotThatNeverExpiresAndEachLevelStartsAtTheImport()
    {
        var result = await ImportAsync(Header + "1001,IMP1001,,,1500,2000,\n1002,IMP1002,,,0,,\n1003,IMP1003,,,20,,64\n");

        Assert.True(result.ExitCode == 0, result.Errors);
        Assert.Contains("and as many lots, never expiring", result.Output);
        var lots = await App.QueryAsync(db => db.PointLots.AsNoTracking().OrderBy(l => l.MemberId).ToListAsync());
        Assert.Equal([(1001L, 1500L), (1003L, 20L)], lots.Select(l => (l.MemberId, l.Remaining)));
        Assert.All(lots, l => Assert.Equal(("O", l.Remaining, false, (int?)null, l.EarnedAt, (DateTimeOffset?)null),
            (l.BusiType, l.Amount, l.Pending, l.ChannelId, l.AvailableAt, l.ExpiresAt)));
        var ledger = await App.QueryAsync(db => db.PointEntries.AsNoTracking().Where(e => e.BusiType == "O").OrderBy(e => e.MemberId).ToListAsync());
        Assert.Equal(lots.Select(l => (l.MemberId, l.BusiBillNum, l.Amount, l.EarnedAt)), ledger.Select(e => (e.MemberId, e.BusiBillNum, e.Earned, e.CreatedAt)));
        var members = await App.QueryAsync(db => db.Members.AsNoTracking().Where(m => m.Id > 1000).ToListAsync());
        Assert.All(members, m => Assert.Equal(m.CreatedAt, m.LevelSince));
        Assert.Equal(2000L, members.Single(m => m.Id == 1001).LifetimeEarned);
    }

    [Fact]
    public async Task TheDashboardDoesNotCountAnOpeningBalanceAsEarnedToday()
    {
        Assert.Equal(0, (await ImportAsync(Header + "1001,IMP1001,,,1500,,\n")).ExitCode);
        await Partner.AddPointsAsync(1001, "P", 10, "T-IMPORT");

        var today = (await OperatorClient().GetFromJsonNodeAsync("/api/v1/dashboard"))["today"]!;
        Assert.Equal(10L, today["pointsEarned"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("1002,12345,,,0,,", "made only of digits")]
    [InlineData("1002,IMP1002,,,-5,,", "balance -5 is negative")]
    [InlineData("1002,IMP1002,,,5,,9", "level '9' is not one of the levels (1, 64)")]
    [InlineData("x1002,IMP1002,,,5,,", "id 'x1002' is not a whole number")]
    [InlineData("1001,IMP1002,,,5,,", "id 1001 is also on line 2")]
    [InlineData("1002,IMP1001,,,5,,", "code 'IMP1001' is also on line 2")]
    [InlineData("1002,IMP\"1002,,,5,,", "has a quote inside it")]
    [InlineData("1002,IMP1002,,,5,1,", "lifetimeEarned 1 is less than the balance 5")]
    [InlineData("1002,IMP1002,,5,", "5 fields, the header has 7")]
    public async Task ABadRowOnLine3FailsNamingItAndChangesNothing(string row, string problem)
    {
        var before = await StateAsync();

        var result = await ImportAsync(Header + "1001,IMP1001,,,100,,\n" + row + "\n1003,IMP1003,,,7,,\n");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("nothing was imported", result.Errors);
        Assert.Contains($"line 3: ", result.Errors);
        Assert.Contains(problem, result.Errors);
        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task AQuoteLeftOpenIsNamedByTheLineItOpensOn()
    {
        var result = await ImportAsync(Header + "1001,IMP1001,,,100,,\n1002,IMP1002,\"Wang\n\n1003,IMP1003,,,7,,\n");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("line 3: field 3 opens a quote that is never closed", result.Errors);
    }

    [Fact]
    public async Task AnIdOrCodeAlreadyInTheDatabaseFailsNamingItsLineAndChangesNothing()
    {
        var before = await StateAsync();

        var result = await ImportAsync(Header + "1001,IMP1001,,,100,,\n7,IMP0007,,,5,,\n1003,M0005,,,7,,\n");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("line 3: member 7 is in the database already (code 'M0007')", result.Errors);
        Assert.Contains("line 4: code 'M0005' belongs to member 5 in the database already", result.Errors);
        Assert.Equal(before, await StateAsync());
        using var missing = await OperatorClient().GetAsync("/api/v1/members/1001");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task AnEmptyFileOrABadHeaderIsRefused()
    {
        Assert.Contains("line 1: the file is empty", (await ImportAsync("")).Errors);
        Assert.Contains("line 1: column 'points' is not one of", (await ImportAsync("id,code,points\n1001,IMP1001,5\n")).Errors);
        Assert.Contains("line 1: the header has no 'code' column", (await ImportAsync("id,name\n1001,x\n")).Errors);
    }

    /// <summary>Every member and the ledger's size: equal before and after means nothing was written.</summary>
    private Task<string> StateAsync() => App.QueryAsync(async db => JsonSerializer.Serialize(new
    {
        Members = await db.Members.OrderBy(m => m.Id).Select(m => new { m.Id, m.Code, m.Balance, m.LifetimeEarned, m.LevelId }).ToListAsync(),
        Ledger = await db.PointEntries.CountAsync(),
        Lots = await db.PointLots.CountAsync(),
    }));
}

public sealed class MemberImportTestsOnSqlite() : MemberImportTests(Backend.Sqlite);

public sealed class MemberImportTestsOnPostgres() : MemberImportTests(Backend.Postgres);

internal static class JsonNodeClient
{
    public static async Task<JsonNode> GetFromJsonNodeAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }
}

public sealed class MemberImportFileTests
{
    private static readonly Patron.Levels.LevelTable Levels = new([new Patron.Levels.Level { Id = 1, Name = "a", Threshold = 0 },
        new Patron.Levels.Level { Id = 64, Name = "b", Threshold = 1000 }], Patron.Levels.LevelBasis.Lifetime);

    [Fact]
    public void LinesAreCountedInsideQuotedFieldsSoALaterRowIsNamedByItsOwnLine()
    {
        var check = Patron.Members.Import.MemberImportFile.Read(new StringReader(
            "code,id,name\r\nA1,1,\"two\r\nlines\"\r\n\r\nA2,2,x\nA3,-3,y\n"), Levels);

        Assert.Equal(["line 6: id '-3' is not a whole number of 1 or more"], check.Problems);
        Assert.Equal(("two\r\nlines", 5), (check.Rows[0].Name, check.Rows[1].Line));
    }

    [Fact]
    public void ALevelLeftBlankFollowsTheLevelBasisAndTheColumnsMayComeInAnyOrder()
    {
        var check = Patron.Members.Import.MemberImportFile.Read(new StringReader("level,balance,code,id\n,1000,A1,1\n,999,A2,2\n"), Levels);

        Assert.Empty(check.Problems);
        Assert.Equal([(byte)64, (byte)1], check.Rows.Select(r => r.LevelId));
    }
}
