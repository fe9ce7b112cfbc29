using Patron.Levels;
using Patron.Points;
using Patron.Points.Lots;

namespace Patron.Tests.Points;

/// <summary>How one batch of points changes is decided, without storage: as if the requests came one by one.</summary>
public sealed class PointsDeciderTests
{
    private static readonly LevelTable Levels = new([new Level { Id = 1, Name = "a", Threshold = 0 }, new Level { Id = 64, Name = "b", Threshold = 1000 }], LevelBasis.Lifetime);
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 8, 0, 0, TimeSpan.Zero);

    private static PointChange Add(long member, long value, string? key = null, string type = "P", string bill = "B") =>
        new(member, type, bill, value, 7, "pos", key);

    private static readonly PointsPolicy Policy = new(Levels, PointsExpiry.Never, null, TimeZoneInfo.Utc);

    private static PointsBatchPlan Decide(Dictionary<long, (long Balance, long Lifetime, byte Level)> members, params PointChange[] changes) =>
        PointsDecider.Decide(changes, State(members, []), Now);

    /// <summary>The state a store reads: each member's balance held in one never-expiring lot.</summary>
    private static PointsBatchState State(Dictionary<long, (long Balance, long Lifetime, byte Level)> members, Dictionary<PointKey, PointEntry> earlier) =>
        new(members.ToDictionary(m => m.Key, m => new PointsState(m.Value.Balance, m.Value.Lifetime, m.Value.Level, Since)), earlier,
            members.ToDictionary(m => m.Key, m => m.Value.Balance == 0 ? new List<PointLot>() : [new PointLot { Id = m.Key, MemberId = m.Key,
                BusiType = "O", BusiBillNum = "BALANCE", Amount = m.Value.Balance, Remaining = m.Value.Balance, AvailableAt = Since }]),
            [], Policy);

    private static readonly DateTimeOffset Since = Now.AddYears(-1);

    [Fact]
    public void AFailingRequestFailsAloneAndTheRestChainTheirBalances()
    {
        var plan = Decide(new() { [1] = (10, 10, 1) }, Add(1, 5), Add(1, -100, type: "E"), Add(1, 990), Add(1, -15, type: "E"));

        Assert.Equal([null, ErrorCode.NotEnoughPoints, null, null], plan.Outcomes.Select(o => o.Failure?.Code));
        Assert.Equal([(10L, 15L), (15L, 1005L), (1005L, 990L)], plan.NewEntries.Select(e => (e.BalanceBefore, e.BalanceAfter)));
        Assert.Equal((1L, 64), (plan.NewEntries[1].LevelBefore, plan.NewEntries[1].LevelAfter));
        Assert.Equal(new PointsState(990, 1005, 64, Now), plan.Changed[1]);
    }

    [Fact]
    public void AnUnknownMemberFailsAloneAndLeavesTheOthersChanged()
    {
        var plan = Decide(new() { [1] = (0, 0, 1), [2] = (3, 3, 1) }, Add(1, 1), Add(99, 1), Add(2, 1));

        Assert.Equal([null, ErrorCode.MemberNotFound, null], plan.Outcomes.Select(o => o.Failure?.Code));
        Assert.Equal([1L, 2L], plan.Changed.Keys.Order());
        Assert.Equal(4, plan.Changed[2].Balance);
    }

    [Fact]
    public void ARepeatedKeyInOneBatchAnswersWithTheFirstOutcomeAndWritesOnce()
    {
        var plan = Decide(new() { [1] = (0, 0, 1) }, Add(1, 5, "k"), Add(1, 5, "k"), Add(1, 6, "k"), Add(1, 5, "other"));

        Assert.Same(plan.Outcomes[0].Value, plan.Outcomes[1].Value);
        Assert.Equal(ErrorCode.IdempotencyKeyReused, plan.Outcomes[2].Failure?.Code);
        Assert.Equal(2, plan.NewEntries.Count);
        Assert.Equal(10, plan.Changed[1].Balance);
    }

    [Fact]
    public void AKeyWhoseFirstRequestFailedIsDecidedAfreshWhenRepeated()
    {
        var plan = Decide(new() { [1] = (0, 0, 1) }, Add(1, -5, "k", "E"), Add(1, 8), Add(1, -5, "k", "E"));

        Assert.Equal(ErrorCode.NotEnoughPoints, plan.Outcomes[0].Failure?.Code);
        Assert.Equal((8L, 3L), (plan.Outcomes[2].Value!.BalanceBefore, plan.Outcomes[2].Value!.BalanceAfter));
    }

    [Fact]
    public void AKeyAlreadyInTheLedgerIsReplayedNotWritten()
    {
        var earlier = new PointEntry { AutoId = 41, MemberId = 1, BusiType = "P", BusiBillNum = "B", ChangeValue = 5, Actor = "pos",
            ChannelId = 7, IdempotencyKey = "k", RequestHash = Add(1, 5, "k").RequestHash() };
        var plan = PointsDecider.Decide([Add(1, 5, "k"), Add(1, 9, "k")],
            State(new() { [1] = (5, 5, 1) }, new() { [new PointKey(7, null, "k")] = earlier }), Now);

        Assert.Same(earlier, plan.Outcomes[0].Value);
        Assert.Equal(ErrorCode.IdempotencyKeyReused, plan.Outcomes[1].Failure?.Code);
        Assert.Empty(plan.NewEntries);
        Assert.Empty(plan.Changed);
    }

    [Fact]
    public void AnOperatorsKeyIsTheOperatorsOwn()
    {
        static PointChange ByOperator(string actor, long value) => new(1, "C", "console", value, null, actor, "k");
        var earlier = new PointEntry { AutoId = 41, MemberId = 1, BusiType = "C", BusiBillNum = "console", ChangeValue = 5, Actor = "operator:a",
            IdempotencyKey = "k", RequestHash = ByOperator("operator:a", 5).RequestHash() };

        var plan = PointsDecider.Decide([ByOperator("operator:a", 5), ByOperator("operator:a", 6), ByOperator("operator:b", 5), Add(1, 5, "k")],
            State(new() { [1] = (5, 5, 1) }, new() { [PointKey.Of(earlier)] = earlier }), Now);

        Assert.Same(earlier, plan.Outcomes[0].Value);
        Assert.Equal(ErrorCode.IdempotencyKeyReused, plan.Outcomes[1].Failure?.Code);
        Assert.Equal(["operator:b", "pos"], plan.NewEntries.Select(e => e.Actor));
    }
}
