using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Cards;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Data;

/// <summary>
/// The hottest reads in round trips (issue #25): each query is a fixed cost of EF, Npgsql and a
/// socket write, so a read that needs one row set asks for it once. Counted after a first call,
/// which may load caches (channels, keys) that later calls do without.
/// </summary>
public abstract class ReadQueriesTests(Backend backend) : PatronTest(backend)
{
    protected override void ConfigureHost(IWebHostBuilder builder) => RequestCommands.AddTo(builder, Backend.Storage);

    private RequestCommands Commands => App.Services.GetRequiredService<RequestCommands>();

    private OpenApiClient Hkl => new(App.CreateClient());

    private OpenApiClient Aes => new(App.CreateClient()) { Channel = "aes-partner", Key = TestCatalog.AesKey, Cipher = OpenApiCipher.AesGcm };

    /// <summary>Member 1 holds lots and cards of two channels, one of them two-product, one card used.</summary>
    private async Task SeedAsync()
    {
        var card = (await Hkl.SellAsync("S-1", num: 2)).Data!["list"]![0]!["cpnCodes"]![0]!.GetValue<string>();
        Assert.Equal(0, (await Hkl.SellAsync("S-2", card: TestCatalog.TwoProductCard, payAmt: "20.00")).Code);
        Assert.Equal(0, (await Aes.SellAsync("S-3")).Code);
        Assert.Equal(0, (await Hkl.UseAsync(card, "U-1", "2026-01-05 12:00:00")).Code);
        await Partner.AddPointsAsync(1, "P", 25);
    }

    private async Task<List<string>> SecondCallAsync(string path, Func<Task> call)
    {
        await call();
        Commands.Clear();
        await call();
        return Commands.Of(path);
    }

    [Fact]
    public async Task ReadingAMemberWithATokenTakesThreeQueries()
    {
        await SeedAsync();
        var viewer = OperatorClient(TestCatalog.ViewerToken);

        var sql = await SecondCallAsync("/api/v1/members/1", async () => (await viewer.GetAsync("/api/v1/members/1")).EnsureSuccessStatusCode());

        // The token's operator; the member with its level; its lots, from which the sums are taken.
        Assert.True(sql.Count <= 3, string.Join("\n--\n", sql));
        Assert.Single(sql, q => q.Contains("point_lots", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AListOfMembersSumsTheirLotsWithTheHorizonAsAParameter()
    {
        await SeedAsync();
        var viewer = OperatorClient(TestCatalog.ViewerToken);

        var sql = await SecondCallAsync("/api/v1/members", async () => (await viewer.GetAsync("/api/v1/members")).EnsureSuccessStatusCode());

        // A horizon written into the SQL would make a new query, and a new plan, at every call.
        var sums = Assert.Single(sql, q => q.Contains("point_lots", StringComparison.Ordinal));
        Assert.Equal(2, sums.Split("point_lots").Length - 1);
        Assert.Contains("<= @Horizon", sums, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APartnersCardQueryTakesTwoQueries()
    {
        await SeedAsync();

        var sql = await SecondCallAsync("/openapi/v1/queryMncardByMember",
            async () => Assert.Equal(0, (await Hkl.CallAsync("queryMncardByMember", new { memberId = "M0001" })).Code));

        // The member by code; its cards with their entries, sales and card names.
        Assert.True(sql.Count <= 2, string.Join("\n--\n", sql));
    }

    [Fact]
    public async Task HealthTakesOneQuery()
    {
        var health = App.CreateClient();

        var sql = await SecondCallAsync("/health", async () => (await health.GetAsync("/health")).EnsureSuccessStatusCode());

        Assert.Single(sql);
    }

    /// <summary>The one-query card list against the plain reads that sales and card actions still build views from.</summary>
    [Fact]
    public async Task ACardListInOneQueryIsWhatItsPartsReadApartMake()
    {
        await SeedAsync();
        var channels = await App.QueryAsync(db => db.Channels.ToDictionaryAsync(c => c.Name, c => c.Id));

        var hkl = (await Hkl.CallAsync("queryMncardByMember", new { memberId = "M0001" })).Data!;
        var aes = (await Aes.CallAsync("queryMncardByMember", new { memberId = "1" })).Data!;
        var all = (await OperatorClient().GetFromJsonAsync<JsonArray>("/api/v1/members/1/cards"))!;

        Assert.Equal([3, 1, 4], new[] { hkl, aes, all }.Select(list => list.AsArray().Count));
        Assert.True(JsonNode.DeepEquals(await PartsAsync(channels["hkl-test"]), hkl));
        Assert.True(JsonNode.DeepEquals(await PartsAsync(channels["aes-partner"]), aes));
        Assert.True(JsonNode.DeepEquals(await PartsAsync(null), all));
    }

    private Task<JsonNode?> PartsAsync(int? soldBy) => App.QueryAsync(async db =>
    {
        var cards = await db.MemberCards.AsNoTracking().Include(c => c.Entries)
            .Where(c => c.MemberId == 1 && (soldBy == null || db.CardSales.Any(s => s.Id == c.SaleId && s.ChannelId == soldBy)))
            .OrderByDescending(c => c.CreateTime).ThenBy(c => c.Id).ToListAsync();
        var views = await CardQueries.ViewsAsync(db, cards, TestWorld.Clock.GetUtcNow(), CancellationToken.None);
        return JsonNode.Parse(JsonSerializer.Serialize(views, CardJson.Default.ListMemberCardView));
    });
}

public sealed class ReadQueriesTestsOnSqlite() : ReadQueriesTests(Backend.Sqlite);

public sealed class ReadQueriesTestsOnPostgres() : ReadQueriesTests(Backend.Postgres);
