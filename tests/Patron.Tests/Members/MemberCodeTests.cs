using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Catalog;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Members;

/// <summary>A memberId may be a code or an id, so a code of digits only would shadow another member's id.</summary>
public abstract class MemberCodeTests(Backend backend) : PatronTest(backend)
{
    private Task<int> MemberCountAsync() => App.QueryAsync(db => db.Members.CountAsync());

    [Theory]
    [InlineData("12345")]
    [InlineData("7")]
    [InlineData(" 0042 ")]
    public async Task TheApiRefusesACodeOfDigitsOnlyNamingTheField(string code)
    {
        using var response = await OperatorClient().PostAsJsonAsync("/api/v1/members", new { code });
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("digits", problem!["errors"]!["code"]![0]!.GetValue<string>());
        Assert.Equal(TestCatalog.MemberCount, await MemberCountAsync());
    }

    [Theory]
    [InlineData("A12345")]
    [InlineData("12-345")]
    public async Task ACodeWithAnythingButDigitsIsAccepted(string code)
    {
        using var response = await OperatorClient().PostAsJsonAsync("/api/v1/members", new { code });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task TheConsoleRefusesItWithAMessageAndCreatesNothing()
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);

        using var response = await session.PostFormAsync("/console/members", new() { ["code"] = "2", ["name"] = "shadow" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("digits", await response.Content.ReadAsStringAsync());
        Assert.Equal(TestCatalog.MemberCount, await MemberCountAsync());
    }
}

public sealed class MemberCodeTestsOnSqlite() : MemberCodeTests(Backend.Sqlite);

public sealed class MemberCodeTestsOnPostgres() : MemberCodeTests(Backend.Postgres);

public sealed class MemberCodeCatalogTests
{
    [Fact]
    public void ACatalogMemberCodeOfDigitsOnlyIsRefusedByItsEntry()
    {
        var catalog = TestCatalog.Build();
        catalog["members"]![2]!["code"] = "3";

        var message = Assert.Throws<CatalogException>(() => CatalogFile.Load(TestCatalog.Write(catalog))).Message;

        Assert.Contains("members[2].code", message);
        Assert.Contains("digits", message);
    }
}
