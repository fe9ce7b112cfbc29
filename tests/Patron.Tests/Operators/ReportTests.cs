using System.Data.Common;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Patron.Data;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Operators;

/// <summary>Reports tell the business's time: exports in the chain's zone with its offset, the dashboard in its days.</summary>
public abstract class ReportTests(Backend backend) : PatronTest(backend)
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    private readonly CommandCounter _commands = new();

    protected override void ConfigureHost(IWebHostBuilder builder) => builder.ConfigureServices(s =>
    {
        s.ConfigureDbContext<SqlitePatronDb>(o => o.AddInterceptors(_commands));
        s.ConfigureDbContext<PostgresPatronDb>(o => o.AddInterceptors(_commands));
    });

    private static string Local(DateTimeOffset t) => TimeZoneInfo.ConvertTime(t, Shanghai).ToString("yyyy-MM-dd HH:mm:ss");

    [Fact]
    public async Task TheSalesExportWritesSaleTimesInTheBusinessZoneWithItsOffset()
    {
        var saleTime = TimeZoneInfo.ConvertTime(TestWorld.Clock.GetUtcNow().AddHours(-3), Shanghai);
        var sold = await new OpenApiClient(App.CreateClient()).SellAsync("TZ-1", saleTime: saleTime.ToString("yyyy-MM-dd HH:mm:ss"));
        Assert.Equal(0, sold.Code);

        var csv = await OperatorClient().GetStringAsync("/api/v1/sales.csv");

        var row = csv.Split("\r\n").Single(l => l.StartsWith("TZ-1,", StringComparison.Ordinal));
        Assert.Contains($",{saleTime:yyyy-MM-dd'T'HH:mm:ss}+08:00,", row);
    }

    [Fact]
    public async Task TheLedgerExportWritesTimesInTheBusinessZoneWithItsOffset()
    {
        await Partner.AddPointsAsync(2, "P", 40, "TZ-2");
        var createdAt = await App.QueryAsync(db => db.PointEntries.Where(p => p.MemberId == 2).Select(p => p.CreatedAt).SingleAsync());

        var csv = await OperatorClient().GetStringAsync("/api/v1/members/2/points.csv");

        var row = csv.Split("\r\n")[1];
        Assert.Contains($",{TimeZoneInfo.ConvertTime(createdAt, Shanghai):yyyy-MM-dd'T'HH:mm:ss}+08:00,", row);
    }

    [Fact]
    public async Task TheDashboardCountsAUseOnTheBusinessDayOfItsUseTime()
    {
        var now = TestWorld.Clock.GetUtcNow();
        var openApi = new OpenApiClient(App.CreateClient());
        var card = (await openApi.SellAsync("D-1", saleTime: Local(now.AddDays(-3)))).Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await openApi.UseAsync(card, "DU-1", useTime: Local(now.AddDays(-1)))).Code);

        var dashboard = JsonNode.Parse(await OperatorClient().GetStringAsync("/api/v1/dashboard"))!;

        var days = dashboard["days"]!.AsArray();
        Assert.Equal((0, 1), (days[^1]!["uses"]!.GetValue<int>(), days[^2]!["uses"]!.GetValue<int>()));
        Assert.Equal((0, 1), (days[^1]!["cardsSold"]!.GetValue<int>(), days[^4]!["cardsSold"]!.GetValue<int>()));
        Assert.Equal(1, dashboard["last30Days"]!["uses"]!.GetValue<int>());
    }

    [Fact]
    public async Task TheDashboardLoadsWithAtMostTenQueries()
    {
        await Partner.AddPointsAsync(3, "P", 300);
        await Partner.AddPointsAsync(3, "E", -100);
        var api = OperatorClient();
        await api.GetStringAsync("/api/v1/members/3"); // signs the token in once, outside the count

        var before = _commands.Count;
        var dashboard = JsonNode.Parse(await api.GetStringAsync("/api/v1/dashboard"))!;
        var queries = _commands.Count - before;

        Assert.Equal((300L, 100L), (dashboard["today"]!["pointsEarned"]!.GetValue<long>(), dashboard["today"]!["pointsSpent"]!.GetValue<long>()));
        Assert.InRange(queries, 1, 10);
    }

    [Fact]
    public async Task TheDashboardPageLoadsWithAtMostTenQueries()
    {
        await Partner.AddPointsAsync(3, "P", 300);
        var console = new ConsoleSession(App);
        await console.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);
        await console.Http.GetStringAsync("/console/members");

        var before = _commands.Count;
        using var page = await console.Http.GetAsync("/console");
        var queries = _commands.Count - before;

        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        Assert.InRange(queries, 1, 10);
    }

    /// <summary>Counts the commands the app's DbContexts send: the test's own window onto what a page costs.</summary>
    private sealed class CommandCounter : DbCommandInterceptor
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        {
            Interlocked.Increment(ref _count);
            return result;
        }

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            return ValueTask.FromResult(result);
        }

        public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<object> result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            return ValueTask.FromResult(result);
        }
    }
}

public sealed class ReportTestsOnSqlite() : ReportTests(Backend.Sqlite);

public sealed class ReportTestsOnPostgres() : ReportTests(Backend.Postgres);
