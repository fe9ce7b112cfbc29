using Patron.Levels;
using Patron.Points;
using Patron.Points.Lots;

namespace Patron.Tests.Points;

/// <summary>The pure rules, without HTTP or storage.</summary>
public sealed class RuleTests
{
    private static readonly LevelTable Lifetime = new([new Level { Id = 1, Name = "a", Threshold = 0 }, new Level { Id = 64, Name = "b", Threshold = 1000 }], LevelBasis.Lifetime);
    private static readonly LevelTable OnBalance = Lifetime with { Basis = LevelBasis.Balance };
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 8, 0, 0, TimeSpan.Zero);

    private static PointsState State(long balance, long lifetime, byte level) => new(balance, lifetime, level, Now.AddYears(-1));

    /// <summary>A change to a member whose balance is one never-expiring lot.</summary>
    private static Outcome<PointsState> Apply(PointsState before, char type, long value, LevelTable levels)
    {
        var lots = new MemberLots(before.Balance == 0 ? [] : [new PointLot { Id = 1, MemberId = 1, BusiType = "O", BusiBillNum = "BALANCE",
            Amount = before.Balance, Remaining = before.Balance, AvailableAt = Now.AddYears(-1) }], _ => { });
        var applied = PointRules.Apply(before, lots, new PointChange(1, type.ToString(), "B", value, 7, "pos", null),
            new PointsPolicy(levels, PointsExpiry.Never, null, TimeZoneInfo.Utc), Now);
        return applied.Failure is { } failure ? failure : applied.Value.After;
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(999, 1)]
    [InlineData(1000, 64)]
    [InlineData(long.MaxValue, 64)]
    public void TheLevelIsTheHighestWhoseThresholdIsReached(long basis, byte level) =>
        Assert.Equal(level, Lifetime.LevelFor(basis));

    [Fact]
    public void OnTheBalanceBasisSpendingKeepsTheLevelAndEarningPromotesOnlyByBalance()
    {
        var rich = Apply(State(0, 0, 1), 'P', 1200, OnBalance).Value;
        var spent = Apply(rich, 'E', -1100, OnBalance).Value;
        var lifetimeWouldPromote = Apply(State(400, 5000, 1), 'P', 100, OnBalance).Value;

        Assert.Equal(64, rich.LevelId);
        Assert.Equal((100L, 64), (spent.Balance, spent.LevelId));
        Assert.Equal(1, lifetimeWouldPromote.LevelId);
    }

    [Fact]
    public void OnTheLifetimeBasisPromotionFollowsEarnedPointsNotTheBalance()
    {
        var after = Apply(State(100, 950, 1), 'P', 50, Lifetime).Value;

        Assert.Equal((150L, 1000L, 64), (after.Balance, after.LifetimeEarned, after.LevelId));
    }

    [Fact]
    public void AReversalLowersLifetimeAndSpendingDoesNot()
    {
        var reversed = Apply(State(100, 100, 1), 'S', -40, Lifetime).Value;
        var spent = Apply(State(100, 100, 1), 'E', -40, Lifetime).Value;

        Assert.Equal((60L, 60L), (reversed.Balance, reversed.LifetimeEarned));
        Assert.Equal((60L, 100L), (spent.Balance, spent.LifetimeEarned));
    }

    [Fact]
    public void TheBalanceNeverGoesBelowZero() =>
        Assert.Equal(Patron.ErrorCode.NotEnoughPoints, Apply(State(5, 5, 1), 'E', -6, Lifetime).Failure!.Code);

    [Fact]
    public void AnOverflowIsInvalidNotAWrap() =>
        Assert.Equal(Patron.ErrorCode.InvalidParameter, Apply(State(long.MaxValue - 1, 0, 1), 'P', 5, Lifetime).Failure!.Code);

    [Theory]
    [InlineData("P", 1, true)]
    [InlineData("S", -1, true)]
    [InlineData("R", 3, true)]
    [InlineData("C", 3, true)]
    [InlineData("E", -3, true)]
    [InlineData("Z", 0, true)]
    [InlineData("Z", -9, true)]
    [InlineData("Z", 9, false)]
    [InlineData("E", 0, false)]
    [InlineData("C", 0, false)]
    [InlineData("p", 1, false)]
    [InlineData("N", 1, false)]
    public void BusiTypeRules(string busiType, long change, bool valid) =>
        Assert.Equal(valid, PointRules.Validate(busiType, "bill", change) is null);
}
