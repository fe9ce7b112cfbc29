using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Cards;

/// <summary>
/// The seed's status, "1" effective or "2" void, as every surface reads it: a card is void once it
/// is past its endTime, used up or refunded, and an entry once its card is or its own uses are.
/// The two-product card is sold on Monday 2026-01-05 in Shanghai and ends 2026-02-03 23:59:59.999;
/// the clock stands on 2026-01-30 noon.
/// </summary>
public abstract partial class CardStatusTests(Backend backend) : PatronTest(backend)
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 30, 12, 0, 0, TimeSpan.FromHours(8)).ToUniversalTime());

    protected override TimeProvider? Clock => _clock;

    private OpenApiClient OpenApi => new(App.CreateClient(), _clock);

    private async Task<string> SellAsync(string saleNo)
    {
        var sold = await OpenApi.SellAsync(saleNo, card: TestCatalog.TwoProductCard);
        Assert.Equal(0, sold.Code);
        return sold.Data!["id"]!.GetValue<string>();
    }

    /// <summary>"card:soup,tea" on each surface: the open API's query, /api/v1 (member's cards, the sale) and the console's member page.</summary>
    private async Task<string[]> StatusesAsync(string card, string saleNo)
    {
        var query = await OpenApi.CallAsync("queryMncardByMember", new { memberId = "M0001" });
        var operators = OperatorClient();
        var native = await operators.GetFromJsonAsync<JsonArray>("/api/v1/members/1/cards");
        var sale = await operators.GetFromJsonAsync<JsonObject>($"/api/v1/sales/{saleNo}");
        return
        [
            "query " + Text(query.Data!.AsArray().Single(c => c!["id"]!.GetValue<string>() == card)!),
            "native " + Text(native!.Single(c => c!["id"]!.GetValue<string>() == card)!),
            "sale " + Text(sale!["cards"]!.AsArray().Single()!),
            "console " + await ConsoleTextAsync(card),
        ];
    }

    private static string Text(JsonNode card) =>
        $"{card["status"]}:{string.Join(",", card["memberUsedList"]!.AsArray().Select(e => e!["status"]!.GetValue<string>()))}";

    [GeneratedRegex("data-status=\"(\\d)\"")]
    private static partial Regex DataStatus();

    private async Task<string> ConsoleTextAsync(string card)
    {
        var console = new ConsoleSession(App);
        await console.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);
        var html = await console.Http.GetStringAsync("/console/members/1");
        var start = html.IndexOf($"data-code=\"{card}\"", StringComparison.Ordinal);
        var end = html.IndexOf("</table>", start, StringComparison.Ordinal);
        var statuses = DataStatus().Matches(html[start..end]).Select(m => m.Groups[1].Value).ToList();
        return $"{statuses[0]}:{string.Join(",", statuses.Skip(1))}";
    }

    private static string[] Everywhere(string text) => [$"query {text}", $"native {text}", $"sale {text}", $"console {text}"];

    [Fact]
    public async Task AValidCardReads1UntilItsEndTimeThen2()
    {
        var card = await SellAsync("S-1");
        var valid = await StatusesAsync(card, "S-1");
        _clock.SetUtcNow(new DateTimeOffset(2026, 2, 3, 23, 59, 59, TimeSpan.FromHours(8)));
        var lastSecond = await StatusesAsync(card, "S-1");
        _clock.Advance(TimeSpan.FromSeconds(1));
        var expired = await StatusesAsync(card, "S-1");
        var replay = await OpenApi.SellAsync("S-1", card: TestCatalog.TwoProductCard);

        Assert.Equal(Everywhere("1:1,1"), valid);
        Assert.Equal(Everywhere("1:1,1"), lastSecond);
        Assert.Equal(Everywhere("2:2,2"), expired);
        Assert.Equal((0, "2:2,2"), (replay.Code, Text(replay.Data!)));
        Assert.Equal("2:2,2", Text(replay.Data!["cards"]![0]!));
    }

    [Fact]
    public async Task AProductUsedUpReads2AndTheCardOnceEveryProductIs()
    {
        var card = await SellAsync("S-1");
        foreach (var (day, i) in new[] { "05", "06", "12" }.Select((d, i) => (d, i)))
            Assert.Equal(0, (await OpenApi.UseAsync(card, $"T-{i}", $"2026-01-{day} 12:00:00", product: "P-TEA")).Code);
        var teaUsedUp = await StatusesAsync(card, "S-1");
        var soup = new List<OpenApiAnswer>();
        foreach (var (day, i) in new[] { "05", "12", "19", "26" }.Select((d, i) => (d, i)))
            soup.Add(await OpenApi.UseAsync(card, $"U-{i}", $"2026-01-{day} 12:00:00", product: "P-SOUP"));
        var allUsedUp = await StatusesAsync(card, "S-1");

        Assert.Equal(Everywhere("1:1,2"), teaUsedUp); // P-SOUP, P-TEA
        Assert.Equal(["1", "1", "1", "2"], soup.Select(u => u.Data!["status"]!.GetValue<string>())); // the use that spends the last is answered "2"
        Assert.Equal(Everywhere("2:2,2"), allUsedUp);
    }

    [Fact]
    public async Task ARefundedCardReads2EverywhereAndInTheSalesReplay()
    {
        var card = await SellAsync("S-1");
        Assert.Equal(0, (await OpenApi.CallAsync("refundMncardForSale", new { saleNo = "S-1" })).Code);

        var refunded = await StatusesAsync(card, "S-1");
        var replay = await OpenApi.SellAsync("S-1", card: TestCatalog.TwoProductCard);

        Assert.Equal(Everywhere("2:2,2"), refunded);
        Assert.Equal((0, card, "2:2,2"), (replay.Code, replay.Data!["id"]!.GetValue<string>(), Text(replay.Data!)));
    }

    [Fact]
    public async Task ASalesReplayOfAValidCardReads1()
    {
        var first = await OpenApi.SellAsync("S-1", card: TestCatalog.TwoProductCard);
        var replay = await OpenApi.SellAsync("S-1", card: TestCatalog.TwoProductCard);

        Assert.Equal(("1:1,1", first.Data!.ToJsonString()), (Text(first.Data!), replay.Data!.ToJsonString()));
    }
}

public sealed class CardStatusTestsOnSqlite() : CardStatusTests(Backend.Sqlite);

public sealed class CardStatusTestsOnPostgres() : CardStatusTests(Backend.Postgres);
