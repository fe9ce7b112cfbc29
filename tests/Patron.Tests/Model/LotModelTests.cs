using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Channels;
using Patron.Data;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Model;

/// <summary>
/// The points' lifecycle against the model: earnings on two channels (one pending for days),
/// spends beyond the balance, reversals of earlier bills, clearings, operators' changes, Level/Set,
/// the clock moved by hours or a month (<see cref="Advance"/>), and the settling job run on a host
/// (<see cref="Settle"/>), which activates, expires and reviews levels. Compared after each run:
/// every answer, first answers of replayed keys, every ledger row with its lifetime, pending and
/// shortfall columns and its time, every lot, and the invariants of docs/points.md. Runs go one at
/// a time: the clock and the settling job are the database's, not a run's.
/// </summary>
public abstract class LotModelTests(Backend backend, ITestOutputHelper output) : ModelRuns(backend, output)
{
    private readonly RunClock _clock = new();

    protected override TimeProvider? Clock => _clock;

    protected override JsonObject Catalog() => ModelCatalog.Build();

    // The settling job runs when an operation says so; its own loop waits longer than any test.
    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.UseSetting("RateLimit:PermitsPerSecond", "0").UseSetting("Logging:LogLevel:Default", "Warning")
            .UseSetting("Points:SettleSeconds", "3000000");

    protected override Gen<World> Worlds => LotWorldGen.World;

    protected override Gen<Op>[] Ops(int hosts) => LotWorldGen.Ops(hosts);

    protected override int RunsAtOnce => 1;

    /// <summary>The lifecycle's terms (<see cref="LotCatalog"/>), written once every host is up, as the Lots tests write them.</summary>
    protected async Task<LiveHosts> HostsAsync(params PatronApp[] apps)
    {
        await App.QueryAsync(async db =>
        {
            db.Settings.AddRange(new Setting { Key = SettingKeys.PointsExpiry, Value = LotCatalog.Expiry },
                new Setting { Key = SettingKeys.LevelReviewMonths, Value = LotCatalog.ReviewMonths.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            await db.SaveChangesAsync();
            await db.Channels.Where(c => c.Name == "hkl-test").ExecuteUpdateAsync(s => s.SetProperty(c => c.Expiry, LotCatalog.HklTestExpiry));
            return await db.Channels.Where(c => c.Name == "other").ExecuteUpdateAsync(s => s.SetProperty(c => c.PendingDays, LotCatalog.OtherPendingDays));
        });
        foreach (var app in apps)
            app.Services.GetRequiredService<ChannelDirectory>().Invalidate();
        return new LiveHosts(apps, PartnerClient, _clock);
    }

    [Fact]
    public async Task EveryChangeSettlementAndRetryAnswersAsTheModelAsTheClockMoves() =>
        await RunOneAtATimeAsync(await HostsAsync(App), iter: 80); // a sequence costs SQLite several times what it costs PostgreSQL

    [Fact]
    public async Task ConcurrentChangesAndSettlementsAnswerAsTheModelInSomeOneAtATimeOrder() =>
        await RunConcurrentlyAsync(await HostsAsync(App), iter: Backend == Backend.Postgres ? 50 : 80);
}

public sealed class LotModelTestsOnSqlite(ITestOutputHelper output) : LotModelTests(Backend.Sqlite, output);

public sealed class LotModelTestsOnPostgres(ITestOutputHelper output) : LotModelTests(Backend.Postgres, output)
{
    [Fact]
    public async Task SettlementsOnTwoInstancesAnswerAsTheModelAsTheClockMoves() =>
        await RunConcurrentlyAsync(await HostsAsync(App, StartApp(Clock)), iter: 30);
}
