using Patron.Levels;
using Patron.Points;

namespace Patron.Tests.Points;

/// <summary>The pure rules, without HTTP or storage.</summary>
public sealed class RuleTests
{
    private static readonly LevelTable Lifetime = new([new Level { Id = 1, Name = "a", Threshold = 0 }, new Level { Id = 64, Name = "b", Threshold = 1000 }], LevelBasis.Lifetime);
    private static readonly LevelTable OnBalance = Lifetime with { Basis = LevelBasis.Balance };

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
        var rich = PointRules.Apply(new PointsState(0, 0, 1), 'P', 1200, OnBalance).Value;
        var spent = PointRules.Apply(rich, 'E', -1100, OnBalance).Value;
        var lifetimeWouldPromote = PointRules.Apply(new PointsState(400, 5000, 1), 'P', 100, OnBalance).Value;

        Assert.Equal(64, rich.LevelId);
        Assert.Equal((100L, 64), (spent.Balance, spent.LevelId));
        Assert.Equal(1, lifetimeWouldPromote.LevelId);
    }

    [Fact]
    public void OnTheLifetimeBasisPromotionFollowsEarnedPointsNotTheBalance()
    {
        var after = PointRules.Apply(new PointsState(100, 950, 1), 'P', 50, Lifetime).Value;

        Assert.Equal((150L, 1000L, 64), (after.Balance, after.LifetimeEarned, after.LevelId));
    }

    [Fact]
    public void NegativeChangesDoNotCountTowardsLifetime()
    {
        var after = PointRules.Apply(new PointsState(100, 100, 1), 'S', -40, Lifetime).Value;

        Assert.Equal((60L, 100L), (after.Balance, after.LifetimeEarned));
    }

    [Fact]
    public void TheBalanceNeverGoesBelowZero() =>
        Assert.Equal(Patron.ErrorCode.NotEnoughPoints, PointRules.Apply(new PointsState(5, 5, 1), 'E', -6, Lifetime).Failure!.Code);

    [Fact]
    public void AnOverflowIsInvalidNotAWrap() =>
        Assert.Equal(Patron.ErrorCode.InvalidParameter, PointRules.Apply(new PointsState(long.MaxValue - 1, 0, 1), 'P', 5, Lifetime).Failure!.Code);

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
