using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Operators;

/// <summary>Every /api/v1 route, called as an operator with an API token.</summary>
public abstract partial class NativeApiTests(Backend backend) : PatronTest(backend)
{
    protected HttpClient Api => OperatorClient();

    private async Task<JsonNode> GetJsonAsync(string path) => JsonNode.Parse(await Api.GetStringAsync(path))!;

    protected static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 && text[0] is '{' or '[' ? JsonNode.Parse(text) : null);
    }

    private Task<List<string>> AuditActionsAsync() =>
        App.QueryAsync(db => db.AuditLog.OrderBy(a => a.Id).Select(a => a.Action).ToListAsync());

    [Fact]
    public async Task MembersAreFoundByCodePhoneNameOrId()
    {
        Assert.Equal(7, (await GetJsonAsync("/api/v1/members?q=M0007"))[0]!["id"]!.GetValue<int>());
        Assert.Equal(12, (await GetJsonAsync("/api/v1/members?q=13800000012"))[0]!["id"]!.GetValue<int>());
        Assert.Equal(33, (await GetJsonAsync("/api/v1/members?q=会员33"))[0]!["id"]!.GetValue<int>());
        Assert.Equal(5, (await GetJsonAsync("/api/v1/members?q=5"))[0]!["id"]!.GetValue<int>());
        Assert.Empty((await GetJsonAsync("/api/v1/members?q=nobody")).AsArray());
    }

    [Fact]
    public async Task AMemberShowsBalanceLifetimeEarnedAndLevel()
    {
        await Partner.AddPointsAsync(1, "P", 1200);
        await Partner.AddPointsAsync(1, "E", -700);

        var member = await GetJsonAsync("/api/v1/members/1");

        Assert.Equal((500L, 1200L, 64, "金卡会员", "M0001"),
            (member["balance"]!.GetValue<long>(), member["lifetimeEarned"]!.GetValue<long>(), member["level"]!["id"]!.GetValue<int>(),
             member["level"]!["name"]!.GetValue<string>(), member["code"]!.GetValue<string>()));
    }

    [Fact]
    public async Task CreatingAndEditingAMemberIsAudited()
    {
        var (created, member) = await SendAsync(Api, HttpMethod.Post, "/api/v1/members", new { name = "新会员", phone = "13999999999" });
        var id = member!["id"]!.GetValue<long>();
        var (edited, after) = await SendAsync(Api, HttpMethod.Put, $"/api/v1/members/{id}", new { name = "改名", phone = "13999999999" });
        var (taken, _) = await SendAsync(Api, HttpMethod.Post, "/api/v1/members", new { id = 1, name = "dup" });

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.Conflict), (created, edited, taken));
        Assert.Equal(TestCatalog.MemberCount + 1, id);
        Assert.Equal(13, member["code"]!.GetValue<string>().Length);
        Assert.Equal("改名", after!["name"]!.GetValue<string>());
        var edit = await App.QueryAsync(db => db.AuditLog.SingleAsync(a => a.Action == "member.edit"));
        Assert.Equal(("operator:admin", id.ToString()), (edit.Actor, edit.EntityId));
        Assert.Contains("新会员", edit.Before);
        Assert.Contains("改名", edit.After);
    }

    [Fact]
    public async Task TheLedgerPagesNewestFirstByKeyset()
    {
        for (var i = 1; i <= 5; i++)
            await Partner.AddPointsAsync(2, "P", i, $"B-{i}");

        var first = await GetJsonAsync("/api/v1/members/2/points?limit=2");
        var second = await GetJsonAsync($"/api/v1/members/2/points?limit=2&before={first["nextBefore"]}");
        var last = await GetJsonAsync($"/api/v1/members/2/points?limit=2&before={second["nextBefore"]}");

        long[] Changes(JsonNode page) => [.. page["items"]!.AsArray().Select(r => r!["changeValue"]!.GetValue<long>())];
        Assert.Equal([5, 4], Changes(first));
        Assert.Equal([3, 2], Changes(second));
        Assert.Equal([1], Changes(last));
        Assert.Null(last["nextBefore"]);
    }

    [Theory]
    [InlineData("/api/v1/members/9999")]
    [InlineData("/api/v1/members/9999/points")]
    [InlineData("/api/v1/members/9999/cards")]
    [InlineData("/api/v1/sales/none")]
    public async Task WhatDoesNotExistIsAProblemDetails404(string path)
    {
        using var response = await Api.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Theory]
    [InlineData("/api/v1/members/1/points?limit=0")]
    [InlineData("/api/v1/members/1/points?limit=201")]
    [InlineData("/api/v1/members/1/points?before=abc")]
    [InlineData("/api/v1/sales?from=yesterday")]
    public async Task ABadQueryIs400(string path) =>
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.GetAsync(path)).StatusCode);

    [Fact]
    public async Task AnAdjustmentFollowsThePointsRulesAndIsAttributedToTheOperator()
    {
        var (added, row) = await SendAsync(Api, HttpMethod.Post, "/api/v1/members/3/points", new { busiType = "C", busiBillNum = "fix-1", changeValue = 1000 });
        var (refused, problem) = await SendAsync(Api, HttpMethod.Post, "/api/v1/members/3/points", new { busiType = "E", changeValue = -1001 });
        var (invalid, _) = await SendAsync(Api, HttpMethod.Post, "/api/v1/members/3/points", new { busiType = "X", changeValue = 5 });

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.UnprocessableEntity, HttpStatusCode.BadRequest), (added, refused, invalid));
        Assert.Equal(("operator:admin", 1000L, 64), (row!["actor"]!.GetValue<string>(), row["balanceAfter"]!.GetValue<long>(), row["levelAfter"]!.GetValue<int>()));
        Assert.Equal(2201, problem!["code"]!.GetValue<int>());
        Assert.Equal(1000, await BalanceAsync(3));
        Assert.Equal(["points.adjust"], await AuditActionsAsync());
    }

    [Fact]
    public async Task TheLedgerExportsAsCsv()
    {
        await Partner.AddPointsAsync(4, "P", 10, "=cmd|x");
        using var response = await Api.GetAsync("/api/v1/members/4/points.csv");
        var csv = (await response.Content.ReadAsStringAsync()).TrimStart('\uFEFF');

        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("AutoId,CreatedAt,BusiType,BusiBillNum,ChangeValue", csv);
        Assert.Contains(",P,'=cmd|x,10,0,10,", csv);
    }

    [Fact]
    public async Task LevelsAreListedAddedAndKeptInOrder()
    {
        var (added, _) = await SendAsync(Api, HttpMethod.Put, "/api/v1/levels/32", new { name = "银卡会员", threshold = 500 });
        var (outOfOrder, _) = await SendAsync(Api, HttpMethod.Put, "/api/v1/levels/33", new { name = "x", threshold = 5000 });
        var levels = await GetJsonAsync("/api/v1/levels");
        var promoted = await Partner.AddPointsAsync(5, "P", 600);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.BadRequest), (added, outOfOrder));
        Assert.Equal([1, 32, 64], levels.AsArray().Select(l => l!["id"]!.GetValue<int>()));
        Assert.Equal(32, promoted.TagLong("MemberLevelIdAfter"));
    }
}

public sealed class NativeApiTestsOnSqlite() : NativeApiTests(Backend.Sqlite);

public sealed class NativeApiTestsOnPostgres() : NativeApiTests(Backend.Postgres)
{
    [Fact]
    public async Task AKeyRotatedOnOneInstanceStopsWorkingOnAnotherWithinTheChannelCacheTime()
    {
        var second = StartApp();
        var (_, keys) = await SendAsync(Api, HttpMethod.Post, "/api/v1/channels", new { name = "two-hosts", scopes = new[] { "points.add" } });
        var oldKey = keys!["apiKey"]!.GetValue<string>();
        await Task.Delay(1_100); // the second instance's snapshot may predate the channel
        Assert.Equal(0, (await PartnerClient(second, oldKey).AddPointsAsync(8, "P", 1)).Errcode);

        var (_, rotated) = await SendAsync(Api, HttpMethod.Post, "/api/v1/channels/two-hosts/rotate");
        await Task.Delay(1_100);

        Assert.Equal(1001, (await PartnerClient(second, oldKey).AddPointsAsync(8, "P", 1)).Errcode);
        Assert.Equal(0, (await PartnerClient(second, rotated!["apiKey"]!.GetValue<string>()).AddPointsAsync(8, "P", 1)).Errcode);
    }
}
