using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Patron.Data;
using Patron.Points;
using Patron.Points.Lots;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points.Lots;

/// <summary>
/// Lots under a clock the test moves: the settings under test are written straight into the
/// database (the catalog's own parsing is tested in Catalog), and the settling job is run by hand.
/// </summary>
public abstract class LotTestBase(Backend backend) : PatronTest(backend)
{
    protected readonly FakeTimeProvider Time = new(TestWorld.Start.ToUniversalTime());

    protected override TimeProvider? Clock => Time;

    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) =>
        builder.UseSetting("Channels:CacheMilliseconds", "0");

    protected Task SettingAsync(string key, string value) => App.QueryAsync(async db =>
    {
        db.Settings.Add(new Setting { Key = key, Value = value });
        return await db.SaveChangesAsync();
    });

    protected Task PendingDaysAsync(int days) =>
        App.QueryAsync(db => db.Channels.Where(c => c.Name == "hkl-test").ExecuteUpdateAsync(s => s.SetProperty(c => c.PendingDays, days)));

    protected Task<int> SettleAsync(PatronApp? app = null) =>
        (app ?? App).Services.GetRequiredService<PointsSettler>().RunOnceAsync(CancellationToken.None);

    protected Task<List<PointLot>> LotsAsync(long memberId) =>
        App.QueryAsync(db => db.PointLots.AsNoTracking().Where(l => l.MemberId == memberId).OrderBy(l => l.Id).ToListAsync());

    protected Task<List<PointEntry>> RowsAsync(long memberId) =>
        App.QueryAsync(db => db.PointEntries.AsNoTracking().Where(e => e.MemberId == memberId).OrderBy(e => e.AutoId).ToListAsync());

    protected async Task<(long Balance, long Lifetime, byte Level)> MemberAsync(long memberId)
    {
        var m = await App.QueryAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Id == memberId));
        return (m.Balance, m.LifetimeEarned, m.LevelId);
    }

    /// <summary>The invariant of docs/points.md: the balance is what the available lots hold, and the ledger sums to it.</summary>
    protected async Task AssertConsistentAsync(long memberId)
    {
        var (balance, lifetime, _) = await MemberAsync(memberId);
        var lots = await LotsAsync(memberId);
        var rows = await RowsAsync(memberId);
        Assert.Equal(balance, lots.Where(l => !l.Pending).Sum(l => l.Remaining));
        Assert.Equal(balance, rows.Sum(r => r.ChangeValue));
        Assert.Equal(lots.Where(l => l.Pending).Sum(l => l.Remaining), rows.Sum(r => r.PendingValue));
        Assert.Equal(lifetime, rows.Sum(r => r.Earned));
    }
}
