using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Cards;
using Patron.Compat;
using Patron.Members;
using Patron.Points.Lots;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Data;

/// <summary>
/// The hottest reads in round trips (issue #25): each query is a fixed cost of EF, Npgsql and a
/// socket write, so a read that needs one row set asks for it once. Counted after a first call,
/// which may load caches (channels, keys) that later calls do without.
/// </summary>
public abstract partial class ReadQueriesTests(Backend backend) : PatronTest(backend)
{
    protected override void ConfigureHost(IWebHostBuilder builder) => RequestCommands.AddTo(builder, Backend.Storage);

    private RequestCommands Commands => App.Services.GetRequiredService<RequestCommands>();

    protected OpenApiClient Hkl => new(App.CreateClient());

    private OpenApiClient Aes => new(App.CreateClient()) { Channel = "aes-partner", Key = TestCatalog.AesKey, Cipher = OpenApiCipher.AesGcm };

    /// <summary>Member 1 holds lots and cards of two channels, one of them two-product, one card used.</summary>
    protected async Task SeedAsync()
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

    /// <summary>
    /// A member who earns often and seldom spends holds hundreds of live lots; a detail lists 200.
    /// The lots' query reads them in list order from the index and stops at 201, rather than read and
    /// sort them all: the plan has no sort, and its scan of the lots returns no more than it lists.
    /// </summary>
    [Fact]
    public async Task AMemberWithManyLotsIsListedFromTheIndexWithoutSortingThemAll()
    {
        var now = TestWorld.Clock.GetUtcNow();
        await App.QueryAsync(async db =>
        {
            // Never-expiring lots and lots expiring on many days, written out of list order, and the balance they make.
            db.PointLots.AddRange(Enumerable.Range(0, 1_000).Select(i => new PointLot
            {
                MemberId = 1, BusiType = "S", BusiBillNum = $"N-{i}", Amount = 1, Remaining = 1, EarnedAt = now.AddDays(-1),
                AvailableAt = now.AddDays(-1 - i % 7), ExpiresAt = i % 3 == 0 ? null : now.AddDays(400 - i % 97),
            }));
            (await db.Members.SingleAsync(m => m.Id == 1)).Balance += 1_000;
            return await db.SaveChangesAsync();
        });
        var viewer = OperatorClient(TestCatalog.ViewerToken);

        var sql = await SecondCallAsync("/api/v1/members/1", async () => (await viewer.GetAsync("/api/v1/members/1")).EnsureSuccessStatusCode());

        var list = Assert.Single(sql, q => q.Contains("point_lots", StringComparison.Ordinal) && q.Contains("LIMIT", StringComparison.Ordinal));
        var plan = string.Join('\n', await PlanAsync(MemberIdParameter().Replace(list, "1")));
        Assert.DoesNotContain("Sort", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal);
        Assert.Contains("ix_point_lots_live", plan, StringComparison.Ordinal);
        if (Backend == Backend.Postgres)
            Assert.True(ScanRows().Match(plan) is { Success: true } scan && int.Parse(scan.Groups[1].Value) <= MemberPoints.MaxLots + 1, plan);
    }

    /// <summary>
    /// Only the dashboard reads the ledger by time. On PostgreSQL its index is BRIN, a few pages that a
    /// points add seldom touches where a B-tree takes an insert per ledger row; on SQLite it stays a
    /// B-tree. Either way the dashboard's day range can read through it rather than the whole ledger.
    /// </summary>
    [Fact]
    public async Task TheDashboardCanReadTheLedgersDaysThroughItsTimeIndex()
    {
        await Partner.AddPointsAsync(1, "P", 25);

        await SecondCallAsync("/api/v1/dashboard", async () => (await OperatorClient().GetAsync("/api/v1/dashboard")).EnsureSuccessStatusCode());

        var ledger = Assert.Single(Commands.CommandsOf("/api/v1/dashboard"), c => c.Sql.Contains("point_ledger", StringComparison.Ordinal));
        // A table this small is cheaper to scan whole: the plan is asked for as if it were not.
        var plan = string.Join('\n', await PlanAsync(ledger.Sql, ledger.Parameters, settings: "SET LOCAL enable_seqscan = off"));
        Assert.Contains("IX_point_ledger_created_at", plan, StringComparison.Ordinal);
        var definition = await App.QueryAsync(db => db.Database.SqlQueryRaw<string>(Backend == Backend.Postgres
            ? "SELECT indexdef AS \"Value\" FROM pg_indexes WHERE indexname = 'IX_point_ledger_created_at'"
            : "SELECT sql AS Value FROM sqlite_master WHERE name = 'IX_point_ledger_created_at'").SingleAsync());
        Assert.Equal(Backend == Backend.Postgres, definition.Contains("USING brin", StringComparison.Ordinal));
    }

    /// <param name="settings">On PostgreSQL, set for the plan's transaction first (<c>SET LOCAL</c>).</param>
    protected Task<List<string>> PlanAsync(string query, IReadOnlyList<(string Name, object? Value)>? parameters = null,
        string? settings = null) => App.QueryAsync(async db =>
    {
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        // The setting lives and dies with the transaction, never with the pooled connection.
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        if (settings is not null && Backend == Backend.Postgres)
        {
            command.CommandText = settings;
            await command.ExecuteNonQueryAsync();
        }
        command.CommandText = (Backend == Backend.Postgres ? "EXPLAIN ANALYZE " : "EXPLAIN QUERY PLAN ") + query;
        foreach (var (name, value) in parameters ?? [])
        {
            var parameter = command.CreateParameter();
            (parameter.ParameterName, parameter.Value) = (name, value ?? DBNull.Value);
            command.Parameters.Add(parameter);
        }
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync())
            lines.Add(reader.GetValue(reader.FieldCount - 1).ToString()!);
        return lines;
    });

    [GeneratedRegex(@"@\w*[mM]ember[iI]d\w*")]
    private static partial Regex MemberIdParameter();

    /// <summary>The rows PostgreSQL's scan of <c>point_lots</c> returned.</summary>
    [GeneratedRegex(@"Scan using ix_point_lots_live on point_lots.*?actual time=\S+ rows=(\d+)")]
    private static partial Regex ScanRows();

    [Fact]
    public async Task APartnersCardQueryTakesTwoQueries()
    {
        await SeedAsync();

        var sql = await SecondCallAsync("/openapi/v1/queryMncardByMember",
            async () => Assert.Equal(0, (await Hkl.CallAsync("queryMncardByMember", new { memberId = "M0001" })).Code));

        // The member by code; its cards with their entries, sales and card names (on PostgreSQL not through EF, so not counted).
        Assert.True(sql.Count <= 2, string.Join("\n--\n", sql));
    }

    [Fact]
    public async Task HealthTakesOneQuery()
    {
        var health = App.CreateClient();

        var sql = await SecondCallAsync("/health", async () => (await health.GetAsync("/health")).EnsureSuccessStatusCode());

        Assert.Single(sql);
    }

    /// <summary>
    /// The card list's own read against the plain reads that sales and card actions build views from:
    /// on PostgreSQL the list's rows are read by hand (<see cref="PostgresCardList"/>), and this holds
    /// them to what EF maps.
    /// </summary>
    [Fact]
    public async Task ACardListIsWhatItsPartsReadApartMake()
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
