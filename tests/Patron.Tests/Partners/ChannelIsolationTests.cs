using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Partners;

/// <summary>A channel cancels, refunds and lists only what it sold or used itself.</summary>
public abstract class ChannelIsolationTests(Backend backend) : PatronTest(backend)
{
    private OpenApiClient Seller => new(App.CreateClient());

    // A second partner with every card scope, on the other cipher.
    private OpenApiClient Stranger => new(App.CreateClient()) { Channel = "aes-partner", Key = TestCatalog.AesKey, Cipher = OpenApiCipher.AesGcm };

    private async Task<string> SellAndUseAsync()
    {
        var card = (await Seller.SellAsync("S-1", memberId: "M0003")).Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await Seller.UseAsync(card, "U-1", "2026-01-05 12:00:00")).Code);
        return card;
    }

    [Fact]
    public async Task AnotherChannelsUseNoIsNotFoundAndCancelsNothing()
    {
        await SellAndUseAsync();
        var before = await CardStateAsync();

        var cancel = await Stranger.CancelAsync("U-1");

        Assert.Equal(2101, cancel.Code);
        Assert.Null(cancel.Data);
        Assert.Equal(before, await CardStateAsync());
    }

    [Fact]
    public async Task AnotherChannelsSaleNoIsNotFoundAndRefundsNothing()
    {
        await SellAndUseAsync();
        var before = await CardStateAsync();

        var refund = await Stranger.CallAsync("refundMncardForSale", new { saleNo = "S-1" });
        var withAmount = await Stranger.CallAsync("refundMncardForSale", new { saleNo = "S-1", refundAmt = "1.00" });

        Assert.Equal((2101, 2101), (refund.Code, withAmount.Code));
        Assert.Equal(before, await CardStateAsync());
    }

    [Fact]
    public async Task AnotherChannelsSaleNoIsItsOwnFreshSale()
    {
        await SellAndUseAsync();

        var own = await Stranger.SellAsync("S-1", memberId: "M0003", payAmt: "1.00");

        Assert.Equal((0, "aes-partner"), (own.Code, own.Data!["saleChannel"]!.GetValue<string>()));
        Assert.Equal(2, await App.QueryAsync(db => db.CardSales.CountAsync()));
    }

    [Fact]
    public async Task AQueryListsOnlyTheCardsTheChannelSold()
    {
        var sold = await SellAndUseAsync();
        var strangers = (await Stranger.SellAsync("T-1", memberId: "M0003")).Data!["id"]!.GetValue<string>();

        var seen = await Seller.CallAsync("queryMncardByMember", new { memberId = "M0003" });
        var seenByStranger = await Stranger.CallAsync("queryMncardByMember", new { memberId = "3" });
        var byOperator = await OperatorClient().GetStringAsync("/api/v1/members/3/cards");

        Assert.Equal(new[] { sold }, seen.Data!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        Assert.Equal(new[] { strangers }, seenByStranger.Data!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        Assert.Contains(sold, byOperator);
        Assert.Contains(strangers, byOperator);
    }

    [Fact]
    public async Task AMemberWithCardsFromOthersOnlyIsAnEmptyListNotAnError()
    {
        await SellAndUseAsync();

        var seen = await Stranger.CallAsync("queryMncardByMember", new { memberId = "M0003" });

        Assert.Equal(0, seen.Code);
        Assert.Empty(seen.Data!.AsArray());
    }

    [Fact]
    public async Task AnotherChannelsUseNoDoesNotReplayItsResult()
    {
        var card = await SellAndUseAsync();

        // The same useNo from another channel is that channel's own use, counted on its own.
        var own = await Stranger.UseAsync(card, "U-1", "2026-01-05 12:00:00");

        Assert.Equal((0, 2), (own.Code, own.Data!["hasUsedNum"]!.GetValue<int>()));
    }
}

public sealed class ChannelIsolationTestsOnSqlite() : ChannelIsolationTests(Backend.Sqlite);

public sealed class ChannelIsolationTestsOnPostgres() : ChannelIsolationTests(Backend.Postgres);
