using Patron.Points.Lots;

namespace Patron.Tests.Points.Lots;

/// <summary>The pure calendar and lot arithmetic, without HTTP or storage.</summary>
public sealed class LotRuleTests
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    private static readonly TimeSpan East8 = TimeSpan.FromHours(8);
    private static readonly DateTimeOffset Earned = new(2026, 2, 4, 12, 30, 0, East8);

    [Theory]
    [InlineData("days:1", "2026-02-06T00:00:00+08:00")]
    [InlineData("days:30", "2026-03-07T00:00:00+08:00")]
    [InlineData("months:12:monthEnd", "2027-03-01T00:00:00+08:00")]
    [InlineData("months:1:monthEnd", "2026-04-01T00:00:00+08:00")]
    [InlineData("months:12:yearEnd", "2028-01-01T00:00:00+08:00")]
    public void ExpiryIsTheStartOfTheDayAfterTheLastValidBusinessDay(string policy, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected), PointsExpiry.Parse(policy)!.ExpiresAt(Earned, Shanghai));

    [Theory]
    [InlineData("none")]
    [InlineData("")]
    public void NoExpiryIsNever(string policy) => Assert.Null(PointsExpiry.Parse(policy)!.ExpiresAt(Earned, Shanghai));

    [Theory]
    [InlineData("days:0")]
    [InlineData("days:-1")]
    [InlineData("days:36601")]
    [InlineData("months:12")]
    [InlineData("months:12:weekEnd")]
    [InlineData("weeks:2")]
    public void AMalformedPolicyDoesNotParse(string policy) => Assert.Null(PointsExpiry.Parse(policy));

    [Fact]
    public void AReviewIsDueOnTheLatestAnniversaryOnly()
    {
        var since = new DateTimeOffset(2024, 3, 10, 9, 0, 0, East8);

        Assert.Null(LevelReview.DueAt(since, new DateTimeOffset(2025, 3, 10, 8, 59, 0, East8), 12, Shanghai));
        Assert.Equal(new DateTimeOffset(2025, 3, 10, 9, 0, 0, East8), LevelReview.DueAt(since, new DateTimeOffset(2025, 3, 10, 9, 0, 0, East8), 12, Shanghai));
        Assert.Equal(new DateTimeOffset(2026, 3, 10, 9, 0, 0, East8), LevelReview.DueAt(since, new DateTimeOffset(2026, 12, 1, 0, 0, 0, East8), 12, Shanghai));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(12)]
    public void TheJobsCutOffNeverMissesADueReview(int months)
    {
        // Every 7 hours through a year of "now"s, against level changes every 5 hours in the two months before.
        for (var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, East8); now.Year == 2026; now = now.AddHours(7))
        {
            var cutOff = LevelReview.ChangedBy(now, months, Shanghai);
            var first = TimeZoneInfo.ConvertTime(now, Shanghai).AddMonths(-months - 1);
            for (var since = first; since < now; since = since.AddHours(5))
                if (LevelReview.DueAt(since, now, months, Shanghai) is not null)
                    Assert.True(since <= cutOff, $"{since} is due at {now} but after the cut-off {cutOff}");
        }
    }

    [Fact]
    public void SpendingTakesSoonestToExpireFirstAndNeverExpiringLast()
    {
        var lots = new[] { Lot(1, 50, null), Lot(2, 30, Earned.AddDays(20)), Lot(3, 40, Earned.AddDays(10)) };
        var rules = new MemberLots(lots, _ => { });

        Assert.Equal(60, rules.Spend(60));
        Assert.Equal([50L, 10L, 0L], lots.Select(l => l.Remaining));
    }

    [Fact]
    public void AReversalCancelsItsPendingLotThenTakesItsOwnThenOthers()
    {
        var pending = Lot(1, 30, null, bill: "B", pending: true);
        var own = Lot(2, 20, Earned.AddDays(30), bill: "B");
        var other = Lot(3, 100, Earned.AddDays(5), bill: "A");
        var rules = new MemberLots([pending, own, other], _ => { });

        Assert.Equal((30L, 30L), rules.Reverse(7, "B", 60));
        Assert.Equal([0L, 0L, 90L], new[] { pending, own, other }.Select(l => l.Remaining));
        Assert.Equal((0L, 90L), rules.Reverse(7, "C", 500));
    }

    [Fact]
    public void PartialReturnsOfOneBillTakeFromItsLotUntilItIsSpentThenFromOthers()
    {
        var other = Lot(1, 100, Earned.AddDays(5), bill: "A");
        var own = Lot(2, 50, Earned.AddDays(30), bill: "B");
        var rules = new MemberLots([other, own], _ => { });

        Assert.Equal((0L, 30L), rules.Reverse(7, "B", 30));
        Assert.Equal([100L, 20L], new[] { other, own }.Select(l => l.Remaining));
        Assert.Equal((0L, 30L), rules.Reverse(7, "B", 30));
        Assert.Equal([90L, 0L], new[] { other, own }.Select(l => l.Remaining));
    }

    private static PointLot Lot(long id, long remaining, DateTimeOffset? expires, string bill = "X", bool pending = false) => new()
    {
        Id = id, MemberId = 1, ChannelId = 7, BusiType = "P", BusiBillNum = bill, Amount = remaining, Remaining = remaining,
        Pending = pending, EarnedAt = Earned, AvailableAt = Earned, ExpiresAt = expires,
    };
}
