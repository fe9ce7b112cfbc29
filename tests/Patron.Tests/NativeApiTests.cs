using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests;

/// <summary>Every /api/v1 route, called as an operator with an API token.</summary>
public abstract class NativeApiTests(Backend backend) : PatronTest(backend)
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

    [Fact]
    public async Task CardsAreCreatedEditedAndTakenOffSale()
    {
        var card = new
        {
            id = "L-NEW", name = "新卡", price = 19.90m, validDays = 60, onSale = true,
            products = new[] { new { id = "P-A", name = "A", totalUsedNum = 4, cycleDays = 7, cycleNum = 1 } },
        };
        var (created, view) = await SendAsync(Api, HttpMethod.Post, "/api/v1/cards", card);
        var (duplicate, _) = await SendAsync(Api, HttpMethod.Post, "/api/v1/cards", card);
        var (edited, after) = await SendAsync(Api, HttpMethod.Put, "/api/v1/cards/L-NEW", card with { name = "新卡2" });
        var (badPrice, _) = await SendAsync(Api, HttpMethod.Put, "/api/v1/cards/L-NEW", card with { price = 1.234m });
        var openApi = new OpenApiClient(App.CreateClient());
        var sold = await openApi.SellAsync("S-NEW", card: "L-NEW");
        var (offSale, _) = await SendAsync(Api, HttpMethod.Post, "/api/v1/cards/L-NEW/off-sale");
        var refused = await openApi.SellAsync("S-NEW-2", card: "L-NEW");

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Conflict, HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.OK),
            (created, duplicate, edited, badPrice, offSale));
        Assert.Equal((19.90m, "新卡2"), (view!["price"]!.GetValue<decimal>(), after!["name"]!.GetValue<string>()));
        Assert.Equal((0, 2002), (sold.Code, refused.Code));
        Assert.Contains((await GetJsonAsync("/api/v1/cards")).AsArray(), c => c!["id"]!.GetValue<string>() == "L-NEW" && !c["onSale"]!.GetValue<bool>());
        Assert.Equal(["card.create", "card.edit", "card.off-sale"], await AuditActionsAsync());
    }

    [Fact]
    public async Task SalesAndUsesAreListedByDayChannelAndRestaurant()
    {
        var openApi = new OpenApiClient(App.CreateClient());
        var card = (await openApi.SellAsync("S-1", saleTime: "2026-01-05 10:00:00", num: 2, memberId: "M0005")).Data!["id"]!.GetValue<string>();
        await openApi.SellAsync("S-2", saleTime: "2026-01-07 23:30:00");
        await openApi.UseAsync(card, "U-1", "2026-01-05 12:00:00", posid: "POS-9");

        var day = await GetJsonAsync("/api/v1/sales?from=2026-01-07&to=2026-01-07");
        var byRestaurant = await GetJsonAsync("/api/v1/sales?restaurant=526&channel=hkl-test");
        var otherChannel = await GetJsonAsync("/api/v1/sales?channel=other");
        var uses = await GetJsonAsync("/api/v1/uses?restaurant=POS-9&from=2026-01-05&to=2026-01-05");
        var sale = await GetJsonAsync("/api/v1/sales/S-1");
        var memberCards = await GetJsonAsync("/api/v1/members/5/cards");
        var csv = await Api.GetStringAsync("/api/v1/sales.csv?from=2026-01-05&to=2026-01-05");

        Assert.Equal(["S-2"], day["items"]!.AsArray().Select(s => s!["saleNo"]!.GetValue<string>()));
        Assert.Equal(2, byRestaurant["items"]!.AsArray().Count);
        Assert.Empty(otherChannel["items"]!.AsArray());
        Assert.Equal(("U-1", 1), (uses["items"]![0]!["useNo"]!.GetValue<string>(), uses["items"]!.AsArray().Count));
        Assert.Equal((2, 11.22m), (sale["cards"]!.AsArray().Count, sale["payAmt"]!.GetValue<decimal>()));
        Assert.Equal(2, memberCards.AsArray().Count);
        Assert.Contains("S-1,hkl-test,L68F353AD0019,M0005,2,11.22,", csv);
        Assert.DoesNotContain("S-2", csv);
    }

    [Fact]
    public async Task ChannelsNeverShowTheirKeysExceptOnceWhenMadeOrRotated()
    {
        var (created, keys) = await SendAsync(Api, HttpMethod.Post, "/api/v1/channels", new { name = "new-pos", cipher = "des-ecb", scopes = new[] { "points.add" } });
        var apiKey = keys!["apiKey"]!.GetValue<string>();
        var list = await Api.GetStringAsync("/api/v1/channels");
        var added = await PartnerClient(App, apiKey).AddPointsAsync(6, "P", 5);

        var (rotated, newKeys) = await SendAsync(Api, HttpMethod.Post, "/api/v1/channels/new-pos/rotate");
        var withOld = await PartnerClient(App, apiKey).AddPointsAsync(6, "P", 5);
        var withNew = await PartnerClient(App, newKeys!["apiKey"]!.GetValue<string>()).AddPointsAsync(6, "P", 5);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK), (created, rotated));
        Assert.DoesNotContain(apiKey, list);
        Assert.DoesNotContain(keys["desKey"]!.GetValue<string>(), list);
        Assert.Equal((0, 1001, 0), (added.Errcode, withOld.Errcode, withNew.Errcode));
        var audit = await App.QueryAsync(db => db.AuditLog.Select(a => a.Before + a.After).ToListAsync());
        Assert.DoesNotContain(audit, a => a.Contains(apiKey) || a.Contains(newKeys["apiKey"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ChannelScopesAreEditable()
    {
        var (edited, channel) = await SendAsync(Api, HttpMethod.Put, "/api/v1/channels/other", new { scopes = new[] { "card.query" } });
        var (unknown, _) = await SendAsync(Api, HttpMethod.Put, "/api/v1/channels/other", new { scopes = new[] { "card.steal" } });
        var points = await PartnerClient(App, TestCatalog.OtherApiKey).AddPointsAsync(1, "P", 5);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.BadRequest), (edited, unknown));
        Assert.Equal(["card.query"], channel!["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(1005, points.Errcode);
    }

    [Fact]
    public async Task TheDashboardCountsTodaysPointsCardsAndUses()
    {
        await Partner.AddPointsAsync(7, "P", 300);
        await Partner.AddPointsAsync(7, "E", -100);
        var openApi = new OpenApiClient(App.CreateClient());
        var card = (await openApi.SellAsync("S-1", saleTime: DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd HH:mm:ss"), num: 2)).Data!["id"]!.GetValue<string>();
        await openApi.UseAsync(card, "U-1", useTime: null);

        var dashboard = await GetJsonAsync("/api/v1/dashboard");

        var today = dashboard["today"]!;
        Assert.Equal((300L, 100L, 2, 1), (today["pointsEarned"]!.GetValue<long>(), today["pointsSpent"]!.GetValue<long>(), today["cardsSold"]!.GetValue<int>(), today["uses"]!.GetValue<int>()));
        Assert.Equal(30, dashboard["days"]!.AsArray().Count);
        Assert.Equal(300L, dashboard["last30Days"]!["pointsEarned"]!.GetValue<long>());
    }

    [Fact]
    public async Task OperatorsAreCreatedByAdminsAndTokensReplaceEachOther()
    {
        var (created, _) = await SendAsync(Api, HttpMethod.Post, "/api/v1/operators", new { user = "clerk", password = "clerk-pass-1", role = "viewer" });
        var (weak, _) = await SendAsync(Api, HttpMethod.Post, "/api/v1/operators", new { user = "clerk2", password = "short", role = "viewer" });
        var operators = await GetJsonAsync("/api/v1/operators");
        var (_, token) = await SendAsync(Api, HttpMethod.Post, "/api/v1/operators/me/token");

        using var withOld = await Api.GetAsync("/api/v1/levels");
        using var withNew = await OperatorClient(token!["token"]!.GetValue<string>()).GetAsync("/api/v1/levels");

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.BadRequest), (created, weak));
        Assert.Contains(operators.AsArray(), o => o!["user"]!.GetValue<string>() == "clerk" && o["role"]!.GetValue<string>() == "viewer");
        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.OK), (withOld.StatusCode, withNew.StatusCode));
    }

    [Fact]
    public async Task TheAuditLogListsChangesNewestFirst()
    {
        await SendAsync(Api, HttpMethod.Put, "/api/v1/levels/32", new { name = "银卡会员", threshold = 500 });
        await SendAsync(Api, HttpMethod.Put, "/api/v1/members/8", new { name = "x" });

        var audit = await GetJsonAsync("/api/v1/audit");
        var members = await GetJsonAsync("/api/v1/audit?entity=member&entityId=8");

        Assert.Equal(["member.edit", "level.create"], audit["items"]!.AsArray().Select(a => a!["action"]!.GetValue<string>()));
        Assert.Single(members["items"]!.AsArray());
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheNativeApi()
    {
        var document = JsonNode.Parse(await App.CreateClient().GetStringAsync("/openapi/v1.json"))!;

        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/api/v1/members/{id}/points", paths);
        Assert.Contains("/api/v1/channels/{name}/rotate", paths);
        Assert.Contains("/api/v1/sales", paths);
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
