using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Members;

/// <summary>Members created by operators: a generated id that races another create is drawn again; a code taken is a conflict.</summary>
public abstract class MemberCreateTests(Backend backend) : PatronTest(backend)
{
    [Fact]
    public async Task ConcurrentCreatesWithTheirOwnCodesEachGetTheirOwnId()
    {
        var api = OperatorClient();
        var created = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => api.PostAsJsonAsync("/api/v1/members", new { code = $"NEW-{i}" })));
        var taken = await api.PostAsJsonAsync("/api/v1/members", new { code = "NEW-0" });

        Assert.All(created, c => Assert.Equal(HttpStatusCode.Created, c.StatusCode));
        var ids = await Task.WhenAll(created.Select(async c => (await c.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["id"]!.GetValue<long>()));
        Assert.Equal(5, ids.Distinct().Count());
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
    }

    [Fact]
    public async Task ANewMembersLevelDatesFromItsCreation()
    {
        var before = TestWorld.Clock.GetUtcNow();

        using var created = await OperatorClient().PostAsJsonAsync("/api/v1/members", new { code = "NEW-SINCE" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var member = await App.QueryAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Code == "NEW-SINCE"));
        Assert.Equal(member.CreatedAt, member.LevelSince);
        Assert.InRange(member.LevelSince, before, TestWorld.Clock.GetUtcNow());
    }
}

public sealed class MemberCreateTestsOnSqlite() : MemberCreateTests(Backend.Sqlite);

public sealed class MemberCreateTestsOnPostgres() : MemberCreateTests(Backend.Postgres);
