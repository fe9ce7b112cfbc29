using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Cards;

/// <summary>
/// How late a useTime or saleTime may be (the channel's maxUseAgeDays / maxSaleAgeDays, 31 by
/// default) and how early (5 minutes). The server clock stands at 2026-02-05 12:00 in Shanghai, so
/// 31 days back is 2026-01-05 12:00. aes-partner is tightened to 2 days for uses, 3 for sales.
/// </summary>
public abstract class CardTimeBoundsTests(Backend backend) : PatronTest(backend)
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 2, 5, 12, 0, 0, TimeSpan.FromHours(8)).ToUniversalTime());

    protected override TimeProvider? Clock => _clock;

    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        var tight = catalog["channels"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "aes-partner")!;
        (tight["maxUseAgeDays"], tight["maxSaleAgeDays"]) = (2, 3);
        return catalog;
    }

    private OpenApiClient OpenApi => new(App.CreateClient(), _clock);

    private OpenApiClient Tight => new(App.CreateClient(), _clock) { Channel = "aes-partner", Key = TestCatalog.AesKey, Cipher = OpenApiCipher.AesGcm };

    private static string Card(OpenApiAnswer sold)
    {
        Assert.True(sold.Code == 0, sold.Msg);
        return sold.Data!["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task ASaleExactlyMaxSaleAgeDaysOldIsTakenASecondOlderIs1004NamingTheBound()
    {
        var inside = await OpenApi.SellAsync("S-1", saleTime: "2026-01-05 12:00:00");
        var before = await CardStateAsync();
        var outside = await OpenApi.SellAsync("S-2", saleTime: "2026-01-05 11:59:59");

        Assert.Equal(0, inside.Code);
        Assert.Equal(1004, outside.Code);
        Assert.Contains("saleTime", outside.Msg);
        Assert.Contains("31 days", outside.Msg);
        Assert.Equal(before, await CardStateAsync());
    }

    [Fact]
    public async Task AUseExactlyMaxUseAgeDaysOldIsTakenASecondOlderIs1004NamingTheBound()
    {
        var card = Card(await OpenApi.SellAsync("S-1", saleTime: "2026-01-05 12:00:00"));

        var inside = await OpenApi.UseAsync(card, "U-1", "2026-01-05 12:00:00");
        var before = await CardStateAsync();
        var outside = await OpenApi.UseAsync(card, "U-2", "2026-01-05 11:59:59");

        Assert.Equal(0, inside.Code);
        Assert.Equal(1004, outside.Code);
        Assert.Contains("useTime", outside.Msg);
        Assert.Contains("31 days", outside.Msg);
        Assert.Equal(before, await CardStateAsync());
    }

    [Fact]
    public async Task ATightenedChannelTakesOnlyItsOwnDays()
    {
        var sold = await Tight.SellAsync("T-1", saleTime: "2026-02-02 12:00:00");
        var staleSale = await Tight.SellAsync("T-2", saleTime: "2026-02-02 11:59:59");
        var card = Card(sold);
        var use = await Tight.UseAsync(card, "TU-1", "2026-02-03 12:00:00");
        var staleUse = await Tight.UseAsync(card, "TU-2", "2026-02-03 11:59:59");
        var defaultChannel = await OpenApi.SellAsync("S-1", saleTime: "2026-02-02 11:59:59");

        Assert.Equal((0, 0, 0), (sold.Code, use.Code, defaultChannel.Code));
        Assert.Equal((1004, 1004), (staleSale.Code, staleUse.Code));
        Assert.Contains("3 days", staleSale.Msg);
        Assert.Contains("2 days", staleUse.Msg);
    }

    [Fact]
    public async Task ASaleOrUseMoreThanFiveMinutesAheadIs1004()
    {
        var inside = await OpenApi.SellAsync("S-1", saleTime: "2026-02-05 12:05:00");
        var ahead = await OpenApi.SellAsync("S-2", saleTime: "2026-02-05 12:05:01");
        var card = Card(inside);
        var use = await OpenApi.UseAsync(card, "U-1", "2026-02-05 12:05:00");
        var useAhead = await OpenApi.UseAsync(card, "U-2", "2026-02-05 12:05:01");

        Assert.Equal((0, 0), (inside.Code, use.Code));
        Assert.Equal((1004, 1004), (ahead.Code, useAhead.Code));
        Assert.Contains("saleTime", ahead.Msg);
        Assert.Contains("useTime", useAhead.Msg);
    }

    [Fact]
    public async Task ARetryOfAnAnsweredUseGetsItsAnswerAfterItsTimeLeftTheBound()
    {
        var card = Card(await OpenApi.SellAsync("S-1", saleTime: "2026-01-05 12:00:00"));
        var first = await OpenApi.UseAsync(card, "U-1", "2026-01-05 12:00:00");
        _clock.Advance(TimeSpan.FromHours(1));

        var retry = await OpenApi.UseAsync(card, "U-1", "2026-01-05 12:00:00");
        var fresh = await OpenApi.UseAsync(card, "U-2", "2026-01-05 12:00:00");

        Assert.Equal((0, 0), (first.Code, retry.Code));
        Assert.Equal(first.Data!.ToJsonString(), retry.Data!.ToJsonString());
        Assert.Equal(1004, fresh.Code);
    }

    [Fact]
    public async Task ARetryOfAnAnsweredSaleGetsItsAnswerAfterItsTimeLeftTheBound()
    {
        var first = await OpenApi.SellAsync("S-1", saleTime: "2026-01-05 12:00:00");
        _clock.Advance(TimeSpan.FromHours(1));

        var retry = await OpenApi.SellAsync("S-1", saleTime: "2026-01-05 12:00:00");
        var fresh = await OpenApi.SellAsync("S-2", saleTime: "2026-01-05 12:00:00");

        Assert.Equal((0, 0), (first.Code, retry.Code));
        Assert.Equal(first.Data!.ToJsonString(), retry.Data!.ToJsonString());
        Assert.Equal(1004, fresh.Code);
    }
}

public sealed class CardTimeBoundsTestsOnSqlite() : CardTimeBoundsTests(Backend.Sqlite);

public sealed class CardTimeBoundsTestsOnPostgres() : CardTimeBoundsTests(Backend.Postgres);
