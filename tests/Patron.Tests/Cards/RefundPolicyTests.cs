using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Cards;

/// <summary>Cards of each refund policy, sold on 2026-01-05; each card has two products, 3 + 4 = 7 uses, any number a cycle.</summary>
public static class RefundCatalog
{
    public const string Prorated = "L-PRORATED";
    public const string RefuseIfUsed = "L-REFUSE";
    public const string SaleTime = "2026-01-05 10:00:00";

    public static JsonObject Build()
    {
        var catalog = TestCatalog.Build();
        foreach (var (id, policy) in new[] { (Prorated, "prorated"), (RefuseIfUsed, "refuseIfUsed") })
            catalog["cards"]!.AsArray().Add(new JsonObject
            {
                ["id"] = id, ["name"] = $"{policy} card", ["price"] = 11.22m, ["validDays"] = 30, ["onSale"] = true, ["refund"] = policy,
                ["products"] = new JsonArray(
                    new JsonObject { ["id"] = "P-A", ["name"] = "A", ["totalUsedNum"] = 3, ["cycleDays"] = 7, ["cycleNum"] = 7 },
                    new JsonObject { ["id"] = "P-B", ["name"] = "B", ["totalUsedNum"] = 4, ["cycleDays"] = 7, ["cycleNum"] = 7 }),
            });
        return catalog;
    }

    /// <summary>Sells <paramref name="num"/> cards for 11.22 to M0001 and makes the uses, "A" or "B" on card i; the cards' codes.</summary>
    public static async Task<string[]> SellAndUseAsync(OpenApiClient open, string saleNo, string card, int num, params (int Card, string Product)[] uses)
    {
        var sold = await open.SellAsync(saleNo, saleTime: SaleTime, num: num, card: card);
        Assert.Equal(0, sold.Code);
        var codes = sold.Data!["cards"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()).ToArray();
        foreach (var ((i, product), n) in uses.Select((u, n) => (u, n)))
            Assert.Equal(0, (await open.UseAsync(codes[i], $"{saleNo}-U{n}", "2026-01-06 12:00:00", product: $"P-{product}")).Code);
        return codes;
    }
}

/// <summary>How a partly used sale is refunded under its card's refund policy, through the partner API.</summary>
public abstract class RefundPolicyTests(Backend backend) : PatronTest(backend)
{
    protected override JsonObject Catalog() => RefundCatalog.Build();

    private OpenApiClient Open => new(App.CreateClient());

    private Task<OpenApiAnswer> RefundAsync(string saleNo, string? refundAmt = null) => refundAmt is null
        ? Open.CallAsync("refundMncardForSale", new { saleNo })
        : Open.CallAsync("refundMncardForSale", new { saleNo, refundAmt });

    private Task<decimal?> RefundedAsync(string saleNo) =>
        App.QueryAsync(db => db.CardSales.Where(s => s.SaleNo == saleNo).Select(s => s.RefundAmt).SingleAsync());

    [Fact]
    public async Task AProratedRefundIsAtMostThePaymentTimesTheUsesLeftRoundedDownToTheCent()
    {
        // Two cards, 14 uses in all, 3 made: 11.22 × 11 / 14 = 8.8157…, so 8.81.
        await RefundCatalog.SellAndUseAsync(Open, "S-P", RefundCatalog.Prorated, 2, (0, "A"), (0, "A"), (1, "B"));
        var state = await CardStateAsync();

        var tooMuch = await RefundAsync("S-P", "8.82");
        Assert.Equal(state, await CardStateAsync());
        var refund = await RefundAsync("S-P");

        Assert.Equal(1004, tooMuch.Code);
        Assert.Contains("refundAmt", tooMuch.Msg);
        Assert.Contains("8.81", tooMuch.Msg);
        Assert.Equal((0, 8.81m), (refund.Code, refund.Data!["refundAmt"]!.GetValue<decimal>()));
        Assert.Equal(8.81m, await RefundedAsync("S-P"));
    }

    [Fact]
    public async Task AnUnusedProratedSaleRefundsWhatWasPaidAndAnAmountBelowTheAllowanceStands()
    {
        await RefundCatalog.SellAndUseAsync(Open, "S-1", RefundCatalog.Prorated, 1);
        await RefundCatalog.SellAndUseAsync(Open, "S-2", RefundCatalog.Prorated, 1, (0, "B"));

        var whole = await RefundAsync("S-1");
        var part = await RefundAsync("S-2", "3.00");

        Assert.Equal((0, 11.22m), (whole.Code, whole.Data!["refundAmt"]!.GetValue<decimal>()));
        Assert.Equal((0, 3.00m), (part.Code, part.Data!["refundAmt"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task AFullyUsedProratedSaleRefundsNothing()
    {
        await RefundCatalog.SellAndUseAsync(Open, "S-F", RefundCatalog.Prorated, 1, (0, "A"), (0, "A"), (0, "A"), (0, "B"), (0, "B"), (0, "B"), (0, "B"));

        var cent = await RefundAsync("S-F", "0.01");
        var refund = await RefundAsync("S-F");

        Assert.Equal(1004, cent.Code);
        Assert.Contains("0.00", cent.Msg);
        Assert.Equal((0, "2", 0m), (refund.Code, refund.Data!["status"]!.GetValue<string>(), refund.Data["refundAmt"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task AFullPolicyRefundsWhatWasPaidUsedOrNot()
    {
        var card = (await Open.SellAsync("S-FULL", saleTime: RefundCatalog.SaleTime)).Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await Open.UseAsync(card, "U-1", "2026-01-06 12:00:00")).Code);

        var refund = await RefundAsync("S-FULL", "11.22");

        Assert.Equal((0, 11.22m), (refund.Code, refund.Data!["refundAmt"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task RefuseIfUsedRefusesWhileAnyUseStandsAndRefundsOnceItIsCancelled()
    {
        await RefundCatalog.SellAndUseAsync(Open, "S-NEW", RefundCatalog.RefuseIfUsed, 1);
        await RefundCatalog.SellAndUseAsync(Open, "S-USED", RefundCatalog.RefuseIfUsed, 2, (1, "A"));
        await RefundCatalog.SellAndUseAsync(Open, "S-ALL", RefundCatalog.RefuseIfUsed, 1, (0, "A"), (0, "A"), (0, "A"), (0, "B"), (0, "B"), (0, "B"), (0, "B"));
        var unused = await RefundAsync("S-NEW");
        var state = await CardStateAsync();

        var used = await RefundAsync("S-USED");
        var usedNothing = await RefundAsync("S-USED", "0");
        var usedUp = await RefundAsync("S-ALL");
        Assert.Equal(state, await CardStateAsync());
        Assert.Equal(0, (await Open.CancelAsync("S-USED-U0")).Code);
        var afterCancel = await RefundAsync("S-USED");

        Assert.Equal((0, 11.22m), (unused.Code, unused.Data!["refundAmt"]!.GetValue<decimal>()));
        Assert.Equal((1004, 1004, 1004), (used.Code, usedNothing.Code, usedUp.Code));
        Assert.Contains("refundAmt", used.Msg);
        Assert.Equal((0, 11.22m), (afterCancel.Code, afterCancel.Data!["refundAmt"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task AProratedRefundRetriedAfterAUseWasCancelledGetsItsFirstAnswer()
    {
        await RefundCatalog.SellAndUseAsync(Open, "S-R", RefundCatalog.Prorated, 2, (0, "A"), (0, "A"), (1, "B"));
        var first = await RefundAsync("S-R");
        Assert.Equal(0, (await Open.CancelAsync("S-R-U0")).Code);
        var state = await CardStateAsync();

        var retry = await RefundAsync("S-R");
        var sameAmount = await RefundAsync("S-R", "8.81");
        var other = await RefundAsync("S-R", "9.45");

        Assert.Equal((0, 8.81m), (first.Code, first.Data!["refundAmt"]!.GetValue<decimal>()));
        Assert.Equal((0, first.Data.ToJsonString()), (retry.Code, retry.Data!.ToJsonString()));
        Assert.Equal((0, first.Data.ToJsonString()), (sameAmount.Code, sameAmount.Data!.ToJsonString()));
        Assert.Equal(2003, other.Code);
        Assert.Equal(state, await CardStateAsync());
        Assert.Equal(8.81m, await RefundedAsync("S-R"));
    }

    [Fact]
    public async Task TheCardsApiShowsAndSetsThePolicy()
    {
        var api = OperatorClient();
        var card = new
        {
            id = TestCatalog.Card, name = "名牛卡·月卡", price = 11.22m, validDays = 30, onSale = true,
            products = new[] { new { id = "P-NOODLE", name = "招牌牛肉面", totalUsedNum = 8, cycleDays = 7, cycleNum = 2 } },
        };
        var listed = JsonNode.Parse(await api.GetStringAsync("/api/v1/cards"))!.AsArray();
        using var set = await api.PutAsJsonAsync($"/api/v1/cards/{TestCatalog.Card}", new { card.id, card.name, card.price, card.validDays, card.onSale, card.products, refund = "prorated" });
        using var kept = await api.PutAsJsonAsync($"/api/v1/cards/{TestCatalog.Card}", card);
        using var unknown = await api.PutAsJsonAsync($"/api/v1/cards/{TestCatalog.Card}", new { card.id, card.name, card.price, card.validDays, card.onSale, card.products, refund = "sometimes" });
        var after = JsonNode.Parse(await kept.Content.ReadAsStringAsync())!;

        Assert.Equal(("prorated", "refuseIfUsed", "full"), (Policy(listed, RefundCatalog.Prorated), Policy(listed, RefundCatalog.RefuseIfUsed), Policy(listed, TestCatalog.Card)));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.BadRequest), (set.StatusCode, kept.StatusCode, unknown.StatusCode));
        Assert.Equal("prorated", after["refund"]!.GetValue<string>());
        Assert.Contains("refund", await unknown.Content.ReadAsStringAsync());
        Assert.Equal("prorated", await App.QueryAsync(db => db.Cards.Where(c => c.Id == TestCatalog.Card).Select(c => c.RefundPolicy).SingleAsync()));
    }

    [Fact]
    public async Task TheConsoleShowsAndSetsThePolicy()
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);
        var list = await session.Http.GetStringAsync("/console/cards?culture=en");
        var editor = await session.Http.GetStringAsync($"/console/cards/{RefundCatalog.RefuseIfUsed}?culture=en");

        using var saved = await session.PostFormAsync($"/console/cards/{TestCatalog.Card}", new()
        {
            ["Form.Name"] = "名牛卡·月卡", ["Form.Price"] = "11.22", ["Form.ValidDays"] = "30", ["Form.OnSale"] = "true", ["Form.Refund"] = "refuseIfUsed",
            ["Form.Products[0].Id"] = "P-NOODLE", ["Form.Products[0].Name"] = "招牌牛肉面", ["Form.Products[0].TotalUsedNum"] = "8",
            ["Form.Products[0].CycleDays"] = "7", ["Form.Products[0].CycleNum"] = "2",
        });

        Assert.Contains($"data-policy=\"prorated\"", list);
        Assert.Contains("Prorated by uses left", list);
        Assert.Contains("<option value=\"refuseIfUsed\" selected=\"selected\">", editor);
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal("refuseIfUsed", await App.QueryAsync(db => db.Cards.Where(c => c.Id == TestCatalog.Card).Select(c => c.RefundPolicy).SingleAsync()));
    }

    private static string Policy(JsonArray cards, string id) => cards.Single(c => c!["id"]!.GetValue<string>() == id)!["refund"]!.GetValue<string>();
}

public sealed class RefundPolicyTestsOnSqlite() : RefundPolicyTests(Backend.Sqlite);

public sealed class RefundPolicyTestsOnPostgres() : RefundPolicyTests(Backend.Postgres);
