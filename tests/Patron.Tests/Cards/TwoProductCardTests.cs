using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Cards;

/// <summary>
/// A card with two products of different quotas (tea: 3 in all, 2 a week; soup: 4 in all, 1 a
/// week), sold twice in one sale on Monday 2026-01-05: each product's quota is its own, on each card.
/// </summary>
public abstract class TwoProductCardTests(Backend backend) : PatronTest(backend)
{
    private OpenApiClient OpenApi => new(App.CreateClient());
    private int _useNo;

    private async Task<int> UseAsync(string card, string product, string day)
    {
        var answer = await OpenApi.UseAsync(card, $"2P-{++_useNo}", $"2026-{day} 12:00:00", product);
        if (answer.Code == 0)
            Assert.Equal(product, answer.Data!["cardProductId"]!.GetValue<string>());
        return answer.Code;
    }

    private async Task<string[]> SellAsync()
    {
        var sale = await OpenApi.SellAsync("S-2P", num: 2, memberId: "M0005", card: TestCatalog.TwoProductCard, payAmt: "40.00");
        Assert.Equal(0, sale.Code);
        var cards = sale.Data!["cards"]!.AsArray();
        Assert.All(cards, c => Assert.Equal(
            [("P-SOUP", 4, 1), ("P-TEA", 3, 2)],
            c!["memberUsedList"]!.AsArray().Select(e => (e!["cardProductId"]!.GetValue<string>(), e["totalUsedNum"]!.GetValue<int>(), e["cycleNum"]!.GetValue<int>())).Order()));
        return [.. cards.Select(c => c!["id"]!.GetValue<string>())];
    }

    [Fact]
    public async Task UsingOneProductUpLeavesTheOtherProductAndTheOtherCardUsable()
    {
        var cards = await SellAsync();
        var (a, b) = (cards[0], cards[1]);

        Assert.Equal(0, await UseAsync(a, "P-TEA", "01-05"));
        Assert.Equal(0, await UseAsync(a, "P-TEA", "01-06"));
        Assert.Equal(2103, await UseAsync(a, "P-TEA", "01-07"));
        Assert.Equal(0, await UseAsync(a, "P-SOUP", "01-07"));
        Assert.Equal(0, await UseAsync(b, "P-TEA", "01-07"));
        Assert.Equal(0, await UseAsync(a, "P-TEA", "01-12"));
        Assert.Equal(2104, await UseAsync(a, "P-TEA", "01-19"));
        Assert.Equal(2103, await UseAsync(a, "P-SOUP", "01-08"));
        Assert.Equal(0, await UseAsync(a, "P-SOUP", "01-12"));
        Assert.Equal(0, await UseAsync(a, "P-SOUP", "01-19"));

        var used = await App.QueryAsync(db => db.UsageEntries.OrderBy(e => e.MemberCardId).ThenBy(e => e.CardProductId)
            .Select(e => new { e.MemberCardId, e.CardProductId, e.HasUsedNum }).ToListAsync());
        Assert.Equal(
            new[] { (a, "P-SOUP", 3), (a, "P-TEA", 3), (b, "P-SOUP", 0), (b, "P-TEA", 1) }.OrderBy(x => x.Item1, StringComparer.Ordinal).ThenBy(x => x.Item2, StringComparer.Ordinal),
            used.Select(u => (u.MemberCardId, u.CardProductId, u.HasUsedNum)).OrderBy(x => x.MemberCardId, StringComparer.Ordinal).ThenBy(x => x.CardProductId, StringComparer.Ordinal));
    }

    [Fact]
    public async Task RefundingTheSaleVoidsEveryCardAndEntryAndEveryUse()
    {
        var cards = await SellAsync();
        Assert.Equal(0, await UseAsync(cards[0], "P-TEA", "01-05"));
        Assert.Equal(0, await UseAsync(cards[0], "P-TEA", "01-06"));
        Assert.Equal(2103, await UseAsync(cards[0], "P-TEA", "01-07"));
        Assert.Equal(0, await UseAsync(cards[0], "P-SOUP", "01-07"));

        var refund = await OpenApi.CallAsync("refundMncardForSale", new { saleNo = "S-2P" });

        Assert.Equal(0, refund.Code);
        AssertAllVoid(refund.Data!["cards"]!.AsArray(), cards);
        var query = await OpenApi.CallAsync("queryMncardByMember", new { memberId = "M0005" });
        AssertAllVoid(query.Data!.AsArray(), cards);
        var (cardStatuses, entryStatuses) = await App.QueryAsync(async db => (
            await db.MemberCards.Select(c => c.Status).ToListAsync(), await db.UsageEntries.Select(e => e.Status).ToListAsync()));
        Assert.Equal([2, 2], cardStatuses);
        Assert.Equal([2, 2, 2, 2], entryStatuses);

        var usesBefore = await App.QueryAsync(db => db.CardUses.CountAsync());
        foreach (var card in cards)
        {
            // In the cycle already used, and in a fresh one where every quota would allow a use.
            foreach (var product in new[] { "P-TEA", "P-SOUP" })
                Assert.Equal((2102, 2102), (await UseAsync(card, product, "01-07"), await UseAsync(card, product, "01-20")));
        }
        Assert.Equal(usesBefore, await App.QueryAsync(db => db.CardUses.CountAsync()));
    }

    private static void AssertAllVoid(JsonArray listed, string[] cards)
    {
        Assert.Equal(cards.Order(StringComparer.Ordinal), listed.Select(c => c!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.All(listed, c =>
        {
            Assert.Equal("2", c!["status"]!.GetValue<string>());
            Assert.Equal(2, c["memberUsedList"]!.AsArray().Count);
            Assert.All(c["memberUsedList"]!.AsArray(), e => Assert.Equal("2", e!["status"]!.GetValue<string>()));
        });
    }
}

public sealed class TwoProductCardTestsOnSqlite() : TwoProductCardTests(Backend.Sqlite);

public sealed class TwoProductCardTestsOnPostgres() : TwoProductCardTests(Backend.Postgres);
