using Patron.Cards;
using Patron.Writes;

namespace Patron.Tests.Cards;

/// <summary>How one batch of card uses is decided, without storage: as if the uses came one by one.</summary>
public sealed class CardUseDeciderTests
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    private static readonly long Begin = Local("2026-01-05 00:00:00");
    private static readonly long Now = Local("2026-01-20 12:00:00");

    private static long Local(string text) => CardCalendar.TryParseLocal(text, Shanghai, out var t) ? t : throw new FormatException(text);

    /// <summary>8 uses in all, 2 per 7-day cycle; <paramref name="lastCycle"/> and its count as the entry's summary says.</summary>
    private static CardUseBatchState State(int used = 0, int lastCycle = 0, int lastCycleUsed = 0, Dictionary<(string, int), int>? older = null,
        params CardUse[] earlier)
    {
        var card = new MemberCard { Id = "LCARD", CardInfoId = "C", MemberCode = "M1", SaleId = 1, BeginTime = Begin, EndTime = Local("2026-02-04 00:00:00") - 1,
            TimeZone = "Asia/Shanghai" };
        var entry = new UsageEntry
        {
            Id = "UENTRY", MemberCardId = "LCARD", CardProductId = "P", CardProductName = "面", TotalUsedNum = 8, CycleDays = 7, CycleNum = 2,
            HasUsedNum = used, LastCycle = lastCycle, LastCycleUsed = lastCycleUsed, BeginTime = card.BeginTime, EndTime = card.EndTime,
        };
        var sale = new CardSale { ChannelName = "pos", SaleNo = "S", CardInfoId = "C", MemberCode = "M1", RequestHash = "", ResultJson = "" };
        return new CardUseBatchState(earlier.ToDictionary(u => (u.ChannelId, u.UseNo), u => new KeptAnswer(u.RequestHash, u.ResultJson)),
            new() { [("LCARD", "P")] = new UseTarget(card, entry, sale) }, older ?? []);
    }

    private static CardUseCall Use(string useNo, string? at = null, string posid = "POS") =>
        new(3, new UseRequest("LCARD", "P", posid, useNo, at is null ? null : Local(at)));

    [Fact]
    public void ACycleQuotaHoldsInsideOneBatchAndTheRefusedUseFailsAlone()
    {
        var plan = CardUseDecider.Decide([Use("a"), Use("b"), Use("c"), Use("d", "2026-01-27 10:00:00")], State(), DateTimeOffset.FromUnixTimeMilliseconds(Now));

        Assert.Equal([null, null, ErrorCode.CycleQuotaUsedUp, null], plan.Outcomes.Select(o => o.Failure?.Code));
        Assert.Equal([1, 2, 3], plan.Outcomes.Where(o => o.Value is not null).Select(o => o.Value!.HasUsedNum));
        Assert.Equal([1, 2, 3], plan.Outcomes.Where(o => o.Value is not null).Select(o => o.Value!.LockVersion));
        Assert.Equal([3, 3, 4], plan.Uses.Select(u => u.Cycle));
        var entry = Assert.Single(plan.Changed);
        Assert.Equal((3, 4, 1, 3), (entry.HasUsedNum, entry.LastCycle, entry.LastCycleUsed, entry.LockVersion));
        Assert.Equal([1, 2, 3], plan.Log.Select(l => l.HasUsedNumAfter));
    }

    [Fact]
    public void ALateUseCountsAgainstItsOwnCycleAsTheUsesTableHasIt()
    {
        // The entry's last cycle is 3 (with 1 use); cycle 1 already has 2 uses, cycle 2 has 1.
        var state = State(used: 4, lastCycle: 3, lastCycleUsed: 1, older: new() { [("UENTRY", 1)] = 2, [("UENTRY", 2)] = 1 });

        var plan = CardUseDecider.Decide([Use("w1", "2026-01-06 10:00:00"), Use("w2", "2026-01-13 10:00:00"), Use("w3", "2026-01-14 10:00:00")], state, DateTimeOffset.FromUnixTimeMilliseconds(Now));

        Assert.Equal([ErrorCode.CycleQuotaUsedUp, null, ErrorCode.CycleQuotaUsedUp], plan.Outcomes.Select(o => o.Failure?.Code));
        Assert.Equal((5, 3, 1), (plan.Changed[0].HasUsedNum, plan.Changed[0].LastCycle, plan.Changed[0].LastCycleUsed));
    }

    [Fact]
    public void OlderCyclesAreOnlyThoseBeforeTheEntrysLastCycle()
    {
        var state = State(used: 3, lastCycle: 3, lastCycleUsed: 1);

        var older = CardUseDecider.OlderCycles([Use("a", "2026-01-06 10:00:00"), Use("b"), Use("c", "2026-01-27 10:00:00")], state.Targets, Now);

        Assert.Equal([("UENTRY", 1)], older);
    }

    [Fact]
    public void TheTotalQuotaHoldsInsideOneBatch()
    {
        var plan = CardUseDecider.Decide([Use("a", "2026-01-27 10:00:00"), Use("b", "2026-01-28 10:00:00")], State(used: 7, lastCycle: 3, lastCycleUsed: 1), DateTimeOffset.FromUnixTimeMilliseconds(Now));

        Assert.Equal([null, ErrorCode.TotalUsesUsedUp], plan.Outcomes.Select(o => o.Failure?.Code));
    }

    [Fact]
    public void ARepeatedUseNoAnswersWithTheFirstOutcomeOrIsRefusedWhenItsContentDiffers()
    {
        var plan = CardUseDecider.Decide([Use("a"), Use("a"), Use("a", posid: "OTHER")], State(), DateTimeOffset.FromUnixTimeMilliseconds(Now));

        Assert.Same(plan.Outcomes[0].Value, plan.Outcomes[1].Value);
        Assert.Equal(ErrorCode.IdempotencyKeyReused, plan.Outcomes[2].Failure?.Code);
        Assert.Single(plan.Uses);
    }

    [Fact]
    public void AUseNoAlreadyStoredIsReplayedFromItsStoredAnswer()
    {
        var stored = new CardUse
        {
            ChannelId = 3, UseNo = "a", UsageEntryId = "UENTRY", MemberCardId = "LCARD", Posid = "POS", RequestHash = Use("a").Request.Hash(),
            ResultJson = """{"hasUsedNum":1,"lockVersion":1,"id":"UENTRY"}""",
        };
        var plan = CardUseDecider.Decide([Use("a"), Use("a", posid: "OTHER")], State(used: 1, lastCycle: 3, lastCycleUsed: 1, earlier: stored), DateTimeOffset.FromUnixTimeMilliseconds(Now));

        Assert.Equal((1, 1), (plan.Outcomes[0].Value!.HasUsedNum, plan.Outcomes[0].Value!.LockVersion));
        Assert.Equal(ErrorCode.IdempotencyKeyReused, plan.Outcomes[1].Failure?.Code);
        Assert.Empty(plan.Uses);
        Assert.Empty(plan.Changed);
    }

    [Fact]
    public void TheAgeBoundIsDecidedOnlyForAUseWithNoKeptAnswer()
    {
        // Now is 2026-01-20 12:00; a channel bound of 2 days puts 2026-01-18 12:00 just inside.
        var late = (string useNo) => Use(useNo, "2026-01-18 11:59:59") with { MaxAgeDays = 2 };
        var stored = new CardUse
        {
            ChannelId = 3, UseNo = "kept", UsageEntryId = "UENTRY", MemberCardId = "LCARD", Posid = "POS", RequestHash = late("kept").Request.Hash(),
            ResultJson = """{"hasUsedNum":1,"lockVersion":1,"id":"UENTRY"}""",
        };

        var plan = CardUseDecider.Decide([late("kept"), late("new"), Use("inside", "2026-01-18 12:00:00") with { MaxAgeDays = 2 }],
            State(used: 1, lastCycle: 2, lastCycleUsed: 1, earlier: stored), DateTimeOffset.FromUnixTimeMilliseconds(Now));

        Assert.Equal([null, ErrorCode.InvalidParameter, null], plan.Outcomes.Select(o => o.Failure?.Code));
        Assert.Equal(1, plan.Outcomes[0].Value!.HasUsedNum);
        Assert.Contains("useTime", plan.Outcomes[1].Failure!.Message);
        Assert.Single(plan.Uses);
    }

    [Fact]
    public void ARefundedCardRefusesEveryUseOfTheBatch()
    {
        var state = State();
        state.Targets[("LCARD", "P")].Entry.Status = CardStatus.Void;

        var plan = CardUseDecider.Decide([Use("a"), Use("b")], state, DateTimeOffset.FromUnixTimeMilliseconds(Now));

        Assert.All(plan.Outcomes, o => Assert.Equal(ErrorCode.MemberCardNotEffective, o.Failure?.Code));
        Assert.Empty(plan.Changed);
    }
}
