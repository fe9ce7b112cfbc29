using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Patron.Tests.Infrastructure;

namespace Patron.Tests;

public abstract class MembersApiTests(Backend backend) : PatronTest(backend)
{
    private HttpClient Operator(string user = TestCatalog.AdminUser, string password = TestCatalog.AdminPassword)
    {
        var client = App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return client;
    }

    [Fact]
    public async Task AMemberShowsBalanceLifetimeEarnedAndLevel()
    {
        await Partner.AddPointsAsync(1, "P", 1200);
        await Partner.AddPointsAsync(1, "E", -700);

        var member = JsonNode.Parse(await Operator().GetStringAsync("/api/v1/members/1"))!;

        Assert.Equal((500L, 1200L, 64, "金卡会员", "M0001"),
            (member["balance"]!.GetValue<long>(), member["lifetimeEarned"]!.GetValue<long>(), member["level"]!["id"]!.GetValue<int>(),
             member["level"]!["name"]!.GetValue<string>(), member["code"]!.GetValue<string>()));
    }

    [Fact]
    public async Task TheLedgerPagesNewestFirstByKeyset()
    {
        for (var i = 1; i <= 5; i++)
            await Partner.AddPointsAsync(2, "P", i, $"B-{i}");

        var first = JsonNode.Parse(await Operator().GetStringAsync("/api/v1/members/2/points?limit=2"))!;
        var second = JsonNode.Parse(await Operator().GetStringAsync($"/api/v1/members/2/points?limit=2&before={first["nextBefore"]}"))!;
        var last = JsonNode.Parse(await Operator().GetStringAsync($"/api/v1/members/2/points?limit=2&before={second["nextBefore"]}"))!;

        long[] Changes(JsonNode page) => [.. page["items"]!.AsArray().Select(r => r!["changeValue"]!.GetValue<long>())];
        Assert.Equal([5, 4], Changes(first));
        Assert.Equal([3, 2], Changes(second));
        Assert.Equal([1], Changes(last));
        Assert.Null(last["nextBefore"]);
        Assert.Equal((10L, 15L), (first["items"]![0]!["balanceBefore"]!.GetValue<long>(), first["items"]![0]!["balanceAfter"]!.GetValue<long>()));
    }

    [Fact]
    public async Task WithoutOrWithWrongCredentialsTheApiAnswers401()
    {
        using var none = await App.CreateClient().GetAsync("/api/v1/members/1");
        using var wrong = await Operator(password: "not-the-password").GetAsync("/api/v1/members/1");
        using var partnerKey = await Partner.GetAsync("/api/v1/members/1");

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized],
            new[] { none.StatusCode, wrong.StatusCode, partnerKey.StatusCode });
        Assert.Contains("Basic", none.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task AnUnknownMemberIsAProblemDetails404()
    {
        using var response = await Operator().GetAsync("/api/v1/members/9999/points");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=201")]
    [InlineData("before=abc")]
    public async Task ABadPageRequestIs400(string query)
    {
        using var response = await Operator().GetAsync($"/api/v1/members/1/points?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}

public sealed class MembersApiTestsOnSqlite() : MembersApiTests(Backend.Sqlite);

public sealed class MembersApiTestsOnPostgres() : MembersApiTests(Backend.Postgres);
