using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// Base of the black-box tests: each test gets its own database on the given backend, holding
/// only the migrated schema (<see cref="Backend.NewMigratedDatabaseAsync"/>), which the app's own
/// start-up checks and loads with the test catalog.
/// </summary>
public abstract class PatronTest(Backend backend) : IAsyncLifetime
{
    private readonly List<PatronApp> _apps = [];

    protected Backend Backend => backend;
    protected string Connection { get; private set; } = "";
    protected PatronApp App { get; private set; } = null!;

    /// <summary>A partner client holding the hkl-test channel's API key.</summary>
    protected HttpClient Partner { get; private set; } = null!;

    protected virtual JsonObject Catalog() => TestCatalog.Build();

    /// <summary>The clock of the first host; null for <see cref="TestWorld"/>'s.</summary>
    protected virtual TimeProvider? Clock => null;

    /// <summary>Settings or services of every host this test starts, e.g. <c>builder.UseSetting("RateLimit:Burst", "3")</c>.</summary>
    protected virtual void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
    }

    public async Task InitializeAsync()
    {
        Connection = await backend.NewMigratedDatabaseAsync();
        App = StartApp(Clock);
        Partner = PartnerClient(App, TestCatalog.ApiKey);
    }

    /// <summary>Starts another host on the same database: a second instance, or a restart.</summary>
    protected PatronApp StartApp(TimeProvider? clock = null)
    {
        var app = new PatronApp(backend.Storage, Connection, TestCatalog.Write(Catalog()), clock, ConfigureHost);
        _ = app.Server; // start now: migrations and catalog run here
        _apps.Add(app);
        return app;
    }

    protected static HttpClient PartnerClient(PatronApp app, string apiKey)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    /// <summary>An operator calling /api/v1 with a personal API token (admin unless told otherwise).</summary>
    protected HttpClient OperatorClient(string token = TestCatalog.AdminToken, PatronApp? app = null) => PartnerClient(app ?? App, token);

    protected Task<long> BalanceAsync(long memberId) =>
        App.QueryAsync(db => db.Members.Where(m => m.Id == memberId).Select(m => m.Balance).SingleAsync());

    /// <summary>Every card-side row, as one string: equal before and after means nothing changed.</summary>
    protected Task<string> CardStateAsync() => App.QueryAsync(async db => System.Text.Json.JsonSerializer.Serialize(new
    {
        Sales = await db.CardSales.OrderBy(s => s.Id).ToListAsync(),
        Cards = await db.MemberCards.OrderBy(c => c.Id).Select(c => new { c.Id, c.Status, c.LockVersion }).ToListAsync(),
        Entries = await db.UsageEntries.OrderBy(e => e.Id).ToListAsync(),
        Uses = await db.CardUses.OrderBy(u => u.Id).ToListAsync(),
        Log = await db.CardUseLogs.CountAsync(),
    }));

    protected Task<int> LedgerCountAsync() => App.QueryAsync(db => db.PointEntries.CountAsync());

    /// <summary>False only for a test that writes lots or balances behind the service's back, to show how they are read.</summary>
    protected virtual bool BalancesAreTheirLots => true;

    /// <summary>Off only for a test that writes ledger rows behind the service's back, which then have no events.</summary>
    protected virtual bool LedgerRowsHaveTheirEvents => true;

    public async Task DisposeAsync()
    {
        try
        {
            // docs/points.md: a balance is the sum of its available lots, whatever a test did to it.
            if (BalancesAreTheirLots && Connection.Length > 0)
            {
                // Its own context: a test may have stopped every host it started.
                await using var db = backend.Open(Connection);
                var off = await db.Members
                    .Where(m => m.Balance != db.PointLots.Where(l => l.MemberId == m.Id && !l.Pending).Sum(l => l.Remaining))
                    .Select(m => m.Id).Take(5).ToListAsync();
                Assert.True(off.Count == 0, $"members whose balance is not the sum of their available lots: {string.Join(", ", off)}");
            }
            if (LedgerRowsHaveTheirEvents && Connection.Length > 0)
            {
                // docs/events.md: every ledger row wrote one points.changed in its own transaction, and a level.changed when it moved the level.
                await using var db = backend.Open(Connection);
                Assert.Equal(await OutboxChecks.LedgerRowsAsync(db), await OutboxChecks.LedgerEventsAsync(db));
            }
        }
        finally
        {
            foreach (var app in _apps)
                await app.DisposeAsync();
        }
    }
}
