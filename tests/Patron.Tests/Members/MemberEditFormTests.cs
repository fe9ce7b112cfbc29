using System.Net;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Members;

/// <summary>The console's profile form replaces name and phone; only a post carrying both fields may.</summary>
public abstract class MemberEditFormTests(Backend backend) : PatronTest(backend)
{
    private async Task<ConsoleSession> SignedInAsync()
    {
        var console = new ConsoleSession(App);
        Assert.Equal(HttpStatusCode.Redirect, (await console.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword)).StatusCode);
        return console;
    }

    private Task<(string? Name, string? Phone, int Edits)> ProfileAsync(long member) => App.QueryAsync(async db =>
    {
        var m = await db.Members.SingleAsync(x => x.Id == member);
        var id = member.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return (m.Name, m.Phone, await db.AuditLog.CountAsync(a => a.Entity == "member" && a.EntityId == id));
    });

    [Fact]
    public async Task TheFormWithBothFieldsSavesThemAndABlankOneClearsIt()
    {
        var console = await SignedInAsync();

        var saved = await console.PostFormAsync("/console/members/5?handler=Edit", new() { ["name"] = " 改名 ", ["phone"] = "" });

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal(("改名", null, 1), await ProfileAsync(5));
    }

    [Theory]
    [InlineData("name")]
    [InlineData("phone")]
    [InlineData(null)]
    public async Task APostMissingAFieldIsRefusedAndChangesNothing(string? only)
    {
        var console = await SignedInAsync();
        var before = await ProfileAsync(6);
        var fields = only is null ? new Dictionary<string, string>() : new() { [only] = "x" };

        var refused = await console.PostFormAsync("/console/members/6?handler=Edit", fields);

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("without its name and phone fields", await refused.Content.ReadAsStringAsync());
        Assert.Equal(before, await ProfileAsync(6));
    }
}

public sealed class MemberEditFormTestsOnSqlite() : MemberEditFormTests(Backend.Sqlite);

public sealed class MemberEditFormTestsOnPostgres() : MemberEditFormTests(Backend.Postgres);
