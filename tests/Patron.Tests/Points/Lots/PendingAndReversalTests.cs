using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points.Lots;

/// <summary>Pending points, and reversals that find the earning they reverse.</summary>
public abstract class PendingAndReversalTests(Backend backend) : LotTestBase(backend)
{
    [Fact]
    public async Task APendingChangeLeavesTheBalanceAndSaysSoUntilTheJobMakesItAvailable()
    {
        await PendingDaysAsync(7);

        var answer = await Partner.AddPointsAsync(1, "P", 100, "A");

        Assert.Equal((0, 0L, 0L), (answer.Errcode, answer.TagLong("ValuePointBefore"), answer.TagLong("ValuePointAfter")));
        Assert.Contains("100 points are pending", answer.Errmsg);
        Assert.Equal((0L, 0L), (await MemberAsync(1)) is var m ? (m.Balance, m.Lifetime) : default);

        Time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        await SettleAsync();
        Assert.Equal(0, await BalanceAsync(1));

        Time.Advance(TimeSpan.FromMinutes(1));
        await SettleAsync();
        var activated = Assert.Single(await RowsAsync(1), r => r.BusiType == "A");
        Assert.Equal((100L, -100L, 100L, "A"), (activated.ChangeValue, activated.PendingValue, activated.Earned, activated.BusiBillNum));
        Assert.Equal((100L, 100L), (await MemberAsync(1)) is var after ? (after.Balance, after.Lifetime) : default);
        await AssertConsistentAsync(1);
    }

    [Fact]
    public async Task ActivationPromotesWhenItCrossesAThreshold()
    {
        await PendingDaysAsync(1);
        await Partner.AddPointsAsync(2, "P", 1200, "A");
        Assert.Equal(1, (await MemberAsync(2)).Level);

        Time.Advance(TimeSpan.FromDays(2));
        await SettleAsync();

        var activated = Assert.Single(await RowsAsync(2), r => r.BusiType == "A");
        Assert.Equal((1, 64), (activated.LevelBefore, activated.LevelAfter));
    }

    [Fact]
    public async Task AReversalBeforeActivationCancelsThePendingLot()
    {
        await PendingDaysAsync(7);
        await Partner.AddPointsAsync(1, "P", 100, "ORDER-1");

        var reversal = await Partner.AddPointsAsync(1, "S", -100, "ORDER-1");

        Assert.Equal((0, 0L, 0L), (reversal.Errcode, reversal.TagLong("ValuePointBefore"), reversal.TagLong("ValuePointAfter")));
        Assert.Contains("100 pending points cancelled", reversal.Errmsg);
        Time.Advance(TimeSpan.FromDays(8));
        await SettleAsync();
        Assert.DoesNotContain(await RowsAsync(1), r => r.BusiType == "A");
        Assert.Equal((0L, 0L), (await MemberAsync(1)) is var m ? (m.Balance, m.Lifetime) : default);
        await AssertConsistentAsync(1);
    }

    [Fact]
    public async Task AReversalTakesFromItsOwnEarningFirstAndLowersLifetime()
    {
        await SettingAsync(Patron.Data.SettingKeys.PointsExpiry, "days:30");
        await Partner.AddPointsAsync(1, "P", 100, "ORDER-A");
        Time.Advance(TimeSpan.FromDays(10));
        await Partner.AddPointsAsync(1, "P", 100, "ORDER-B");

        await Partner.AddPointsAsync(1, "S", -60, "ORDER-B");

        // ORDER-A expires sooner, but the reversal is of ORDER-B.
        Assert.Equal([100L, 40L], (await LotsAsync(1)).Select(l => l.Remaining));
        Assert.Equal((140L, 140L), (await MemberAsync(1)) is var m ? (m.Balance, m.Lifetime) : default);
        await AssertConsistentAsync(1);
    }

    [Fact]
    public async Task AReversalBeyondItsEarningTakesTheRestFromOtherLots()
    {
        await Partner.AddPointsAsync(1, "P", 100, "ORDER-A");
        await Partner.AddPointsAsync(1, "P", 30, "ORDER-B");

        await Partner.AddPointsAsync(1, "S", -50, "ORDER-B");

        Assert.Equal([80L, 0L], (await LotsAsync(1)).Select(l => l.Remaining));
        await AssertConsistentAsync(1);
    }

    [Fact]
    public async Task AReversalTheBalanceCannotCoverTakesWhatIsThereAndRecordsTheShortfall()
    {
        await Partner.AddPointsAsync(1, "P", 100, "ORDER-A");
        await Partner.AddPointsAsync(1, "E", -80, "GIFT");

        var reversal = await Partner.AddPointsAsync(1, "S", -100, "ORDER-A", key: "refund-1");

        Assert.Equal((0, 20L, 0L), (reversal.Errcode, reversal.TagLong("ValuePointBefore"), reversal.TagLong("ValuePointAfter")));
        Assert.Contains("80 points could not be taken back", reversal.Errmsg);
        var row = (await RowsAsync(1))[^1];
        Assert.Equal((-20L, 80L, -100L), (row.ChangeValue, row.Shortfall, row.Earned));
        Assert.Equal((0L, 0L), (await MemberAsync(1)) is var m ? (m.Balance, m.Lifetime) : default);
        await AssertConsistentAsync(1);

        // The retry gets the first answer, though the same reversal sent afresh would now take 100.
        await Partner.AddPointsAsync(1, "P", 500, "ORDER-C");
        var again = await Partner.AddPointsAsync(1, "S", -100, "ORDER-A", key: "refund-1");
        Assert.Equal((reversal.Errmsg, reversal.Tag!.ToJsonString()), (again.Errmsg, again.Tag!.ToJsonString()));
        Assert.Equal(500, await BalanceAsync(1));
    }

    [Fact]
    public async Task ASpendBeyondTheBalanceIsStillRefusedAndChangesNothing()
    {
        await Partner.AddPointsAsync(1, "P", 100, "ORDER-A");

        var spend = await Partner.AddPointsAsync(1, "E", -101, "GIFT");

        Assert.Equal(2201, spend.Errcode);
        Assert.Equal([100L], (await LotsAsync(1)).Select(l => l.Remaining));
    }
}

public sealed class PendingAndReversalTestsOnSqlite() : PendingAndReversalTests(Backend.Sqlite);

public sealed class PendingAndReversalTestsOnPostgres() : PendingAndReversalTests(Backend.Postgres);
