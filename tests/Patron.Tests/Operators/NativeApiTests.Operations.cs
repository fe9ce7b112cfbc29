using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Operators;

/// <summary>The native API for cards, sales, channels, the dashboard, operators and the audit log.</summary>
public abstract partial class NativeApiTests
{
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
        var card = (await openApi.SellAsync("S-1", saleTime: TestWorld.Clock.GetUtcNow().ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd HH:mm:ss"), num: 2)).Data!["id"]!.GetValue<string>();
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
