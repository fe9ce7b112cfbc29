using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Metrics;

/// <summary>/health/live and /health/ready for orchestrators, and the console's live panel.</summary>
public abstract class HealthTests(Backend backend) : PatronTest(backend)
{
    [Fact]
    public async Task ALiveAndMigratedServiceIsLiveAndReady()
    {
        using var live = await App.CreateClient().GetAsync("/health/live");
        using var ready = await App.CreateClient().GetAsync("/health/ready");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (live.StatusCode, ready.StatusCode));
    }

    [Fact]
    public async Task ADatabaseBehindThisBuildsMigrationsIsNotReadyButStillLive()
    {
        // As if the database had been restored from before the latest migration.
        var latest = await App.QueryAsync(db => db.Database.GetAppliedMigrationsAsync());
        await App.QueryAsync(db => db.Database.ExecuteSqlRawAsync(
            "DELETE FROM \"__EFMigrationsHistory\" WHERE \"MigrationId\" = {0}", latest.Last()));

        using var ready = await App.CreateClient().GetAsync("/health/ready");
        using var live = await App.CreateClient().GetAsync("/health/live");
        using var health = await App.CreateClient().GetAsync("/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("not applied", await ready.Content.ReadAsStringAsync());
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (live.StatusCode, health.StatusCode));
    }

    [Fact]
    public async Task TheLivePanelsNumbersNeedAConsoleSignIn()
    {
        using var anonymous = await App.CreateClient().GetAsync("/api/v1/dashboard/live");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        await Partner.AddPointsAsync(1, "P", 25);
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.ViewerUser, TestCatalog.ViewerPassword);
        var snapshot = JsonNode.Parse(await session.Http.GetStringAsync("/api/v1/dashboard/live"))!;

        var instruments = snapshot["instruments"]!.AsArray().ToDictionary(i => i!["name"]!.GetValue<string>(), i => i!);
        Assert.True(instruments["patron.points"]["split"]!["added"]!.GetValue<double>() >= 25);
        Assert.True(instruments["patron.requests"]["sum"]!.GetValue<double>() >= 1);
        Assert.Equal("histogram", instruments["patron.writes.commit_duration"]["kind"]!.GetValue<string>());
        Assert.Equal("gauge", instruments["patron.writes.queue_depth"]["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheDashboardCarriesTheLivePanel()
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);

        var html = await session.Http.GetStringAsync("/console");

        Assert.Contains("id=\"live\"", html);
        Assert.Contains("/api/v1/dashboard/live", html);
    }
}

public sealed class HealthTestsOnSqlite() : HealthTests(Backend.Sqlite);

public sealed class HealthTestsOnPostgres() : HealthTests(Backend.Postgres)
{
    /// <summary>The database dropped under the service: unreachable, so not ready, yet the process lives.</summary>
    [Fact]
    public async Task ADatabaseThatIsGoneIsNotReadyButStillLive()
    {
        using (await App.CreateClient().GetAsync("/health/ready")) { }
        using (var before = await App.CreateClient().GetAsync("/health"))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        var target = new NpgsqlConnectionStringBuilder(Connection);
        var admin = new NpgsqlConnectionStringBuilder(Connection) { Database = "postgres", Pooling = false };
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE \"{target.Database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }

        using var ready = await App.CreateClient().GetAsync("/health/ready");
        using var live = await App.CreateClient().GetAsync("/health/live");
        using var health = await App.CreateClient().GetAsync("/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.DoesNotContain(target.Database!, await ready.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
    }

    protected override bool BalancesAreTheirLots => false; // the test drops its database
    protected override bool LedgerRowsHaveTheirEvents => false;
}
