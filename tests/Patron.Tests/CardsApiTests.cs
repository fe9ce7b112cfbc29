using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Patron.Tests.Infrastructure;

namespace Patron.Tests;

public abstract class CardsApiTests(Backend backend) : PatronTest(backend)
{
    private HttpClient Operator()
    {
        var client = App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestCatalog.AdminUser}:{TestCatalog.AdminPassword}")));
        return client;
    }

    [Fact]
    public async Task TheCardsOfAMemberASaleAndTheCatalogAreReadable()
    {
        var openApi = new OpenApiClient(App.CreateClient());
        var sale = await openApi.SellAsync("S-1", num: 2, memberId: "M0005");
        await openApi.UseAsync(sale.Data!["id"]!.GetValue<string>(), "U-1", "2026-01-05 12:00:00");

        var cards = JsonNode.Parse(await Operator().GetStringAsync("/api/v1/members/5/cards"))!.AsArray();
        var saleView = JsonNode.Parse(await Operator().GetStringAsync("/api/v1/sales/S-1"))!;
        var catalog = JsonNode.Parse(await Operator().GetStringAsync("/api/v1/cards"))!.AsArray();

        Assert.Equal(2, cards.Count);
        Assert.Equal(1, cards.Sum(c => c!["memberUsedList"]![0]!["hasUsedNum"]!.GetValue<int>()));
        Assert.Equal(("hkl-test", 2, 11.22m), (saleView["channel"]!.GetValue<string>(), saleView["cards"]!.AsArray().Count, saleView["payAmt"]!.GetValue<decimal>()));
        Assert.Contains(catalog, c => c!["id"]!.GetValue<string>() == TestCatalog.Card && c["products"]!.AsArray().Count == 1);
    }

    [Theory]
    [InlineData("/api/v1/members/999/cards")]
    [InlineData("/api/v1/sales/none")]
    public async Task WhatDoesNotExistIs404(string path) =>
        Assert.Equal(HttpStatusCode.NotFound, (await Operator().GetAsync(path)).StatusCode);

    [Theory]
    [InlineData("/api/v1/cards")]
    [InlineData("/api/v1/members/1/cards")]
    [InlineData("/api/v1/sales/S-1")]
    public async Task WithoutCredentialsItIs401(string path) =>
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.CreateClient().GetAsync(path)).StatusCode);
}

public sealed class CardsApiTestsOnSqlite() : CardsApiTests(Backend.Sqlite);

public sealed class CardsApiTestsOnPostgres() : CardsApiTests(Backend.Postgres);
