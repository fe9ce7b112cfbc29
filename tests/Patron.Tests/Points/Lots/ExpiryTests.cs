using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Points.Lots;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points.Lots;

/// <summary>Lots that expire: spent soonest first, expired by the settling job once, whatever runs it.</summary>
public abstract class ExpiryTests(Backend backend) : LotTestBase(backend)
{
    private Task ExpireAfter30DaysAsync() => SettingAsync(SettingKeys.PointsExpiry, PointsExpiry.AfterDays(30).ToText());

    [Fact]
    public async Task ALotExpiresAtTheEndOfItsLastBusinessDay()
    {
        await ExpireAfter30DaysAsync();
        await Partner.AddPointsAsync(1, "P", 100, "A");

        // Earned 2026-02-04 12:30 Shanghai; valid through the 30th day after, 2026-03-06.
        var lot = Assert.Single(await LotsAsync(1));
        Assert.Equal(new DateTimeOffset(2026, 3, 7, 0, 0, 0, TimeSpan.FromHours(8)), lot.ExpiresAt);
        Assert.Equal((100L, 100L, false), (lot.Amount, lot.Remaining, lot.Pending));
    }

    [Fact]
    public async Task SpendingTakesFromTheLotThatExpiresSoonest()
    {
        await ExpireAfter30DaysAsync();
        await Partner.AddPointsAsync(1, "P", 100, "A");
        Time.Advance(TimeSpan.FromDays(5));
        await Partner.AddPointsAsync(1, "P", 40, "B");
        Time.Advance(TimeSpan.FromDays(1));
        await Partner.AddPointsAsync(1, "E", -30, "SPEND");

        Assert.Equal([70L, 40L], (await LotsAsync(1)).Select(l => l.Remaining));
        await AssertConsistentAsync(1);
    }

    [Fact]
    public async Task TheJobExpiresWhatRemainsOfDueLotsInOneRowPerMemberAndRun()
    {
        await ExpireAfter30DaysAsync();
        await Partner.AddPointsAsync(1, "P", 100, "A");
        await Partner.AddPointsAsync(1, "S", 20, "A2");
        Time.Advance(TimeSpan.FromDays(5));
        await Partner.AddPointsAsync(1, "P", 40, "B");
        await Partner.AddPointsAsync(1, "E", -30, "SPEND");

        Time.Advance(TimeSpan.FromDays(28)); // 2026-03-09: A and A2 are due, B is not
        await SettleAsync();
        await SettleAsync();

        var expired = Assert.Single(await RowsAsync(1), r => r.BusiType == "X");
        Assert.Equal((-90L, 130L, 40L, "EXP-20260309", "system"), (expired.ChangeValue, expired.BalanceBefore, expired.BalanceAfter, expired.BusiBillNum, expired.Actor));
        Assert.Equal(40, await BalanceAsync(1));
        await AssertConsistentAsync(1);
    }

    [Fact]
    public async Task NothingExpiresBeforeItsTime()
    {
        await ExpireAfter30DaysAsync();
        await Partner.AddPointsAsync(1, "P", 100, "A");
        Time.Advance(new DateTimeOffset(2026, 3, 6, 23, 59, 0, TimeSpan.FromHours(8)) - Time.GetUtcNow());
        await SettleAsync();
        Assert.Equal(100, await BalanceAsync(1));

        Time.Advance(TimeSpan.FromMinutes(1));
        await SettleAsync();
        Assert.Equal(0, await BalanceAsync(1));
    }

    [Fact]
    public async Task TwoInstancesSettlingAtOnceExpireEachLotOnce()
    {
        await ExpireAfter30DaysAsync();
        for (var member = 1; member <= 6; member++)
            await Partner.AddPointsAsync(member, "P", 10 * member, $"A{member}");
        var second = StartApp(Time);
        Time.Advance(TimeSpan.FromDays(40));

        await Task.WhenAll(SettleAsync(), SettleAsync(second), SettleAsync(), SettleAsync(second));

        var rows = await App.QueryAsync(db => db.PointEntries.Where(r => r.BusiType == "X").ToListAsync());
        Assert.Equal(6, rows.Count);
        Assert.Equal(-210, rows.Sum(r => r.ChangeValue));
        for (var member = 1; member <= 6; member++)
            await AssertConsistentAsync(member);
    }

    [Fact]
    public async Task ARetriedPointAddStillGetsItsFirstAnswerAfterItsLotExpired()
    {
        await ExpireAfter30DaysAsync();
        var first = await Partner.AddPointsAsync(1, "P", 100, "A", key: "earn-1");
        Time.Advance(TimeSpan.FromDays(40));
        await SettleAsync();

        var again = await Partner.AddPointsAsync(1, "P", 100, "A", key: "earn-1");

        Assert.Equal(first.Tag!.ToJsonString(), again.Tag!.ToJsonString());
        Assert.Equal(0, await BalanceAsync(1));
    }

    [Fact]
    public async Task AClearingEmptiesEveryLotPendingOnesIncluded()
    {
        await ExpireAfter30DaysAsync();
        await Partner.AddPointsAsync(1, "P", 100, "A");
        await Partner.AddPointsAsync(1, "P", 50, "B");
        await PendingDaysAsync(7);
        await Partner.AddPointsAsync(1, "P", 30, "LATER");

        var clearing = await Partner.AddPointsAsync(1, "Z", 0, "CLEAR");

        Assert.Equal((150L, 0L), (clearing.TagLong("ValuePointBefore"), clearing.TagLong("ValuePointAfter")));
        Assert.All(await LotsAsync(1), l => Assert.Equal(0, l.Remaining));
        Assert.Equal((-150L, -30L), (await RowsAsync(1))[^1] is var z ? (z.ChangeValue, z.PendingValue) : default);
        Time.Advance(TimeSpan.FromDays(40));
        await SettleAsync();
        Assert.DoesNotContain(await RowsAsync(1), r => r.BusiType is "X" or "A");
        await AssertConsistentAsync(1);
    }
}

public sealed class ExpiryTestsOnSqlite() : ExpiryTests(Backend.Sqlite);

public sealed class ExpiryTestsOnPostgres() : ExpiryTests(Backend.Postgres);
