using System.Globalization;
using Patron.Console;

namespace Patron.Points.Lots;

/// <summary>
/// What the settling job does to one member, decided under the member's lock like any other
/// change: a level review that has fallen due (L), pending lots whose time has come (A), then lots
/// that have expired (X). Whatever is not due writes nothing, so a member settled twice, by two
/// instances or by a run repeated after a crash, is settled once.
/// </summary>
public static class Settlement
{
    public const string Expired = "X";
    public const string Activated = "A";
    public const string Reviewed = "L";

    public static PointsState Settle(long memberId, PointsState state, MemberLots lots, long? reviewEarned, PointsPolicy policy,
        DateTimeOffset now, List<PointEntry> rows, List<AuditEntry> audits)
    {
        // The review first: it is as of its anniversary, which came before anything done now.
        if (policy.ReviewMonths is { } months && reviewEarned is { } earned
            && LevelReview.DueAt(state.LevelSince, now, months, policy.Zone) is { } due)
        {
            var level = policy.Levels.LevelFor(earned);
            var after = state with { LevelId = level, LevelSince = due };
            rows.Add(Row(memberId, Reviewed, "REV-" + Day(due, policy), state, new Applied(after, 0, 0, 0, 0), now));
            audits.Add(Audit.Entry(PointChange.SystemActor, now, "level.review", "member", memberId.ToString(CultureInfo.InvariantCulture),
                new { level = state.LevelId }, new { level, earned, due }));
            state = after;
        }

        foreach (var lot in lots.DueToActivate(now))
        {
            var value = lot.Remaining;
            lots.Activate(lot);
            var after = PointRules.Promoted(state, state.Balance + value, state.LifetimeEarned + value, policy, now);
            rows.Add(Row(memberId, Activated, lot.BusiBillNum, state, new Applied(after, value, value, -value, 0), now));
            state = after;
        }

        var expired = lots.Expire(now);
        if (expired > 0)
        {
            var after = state with { Balance = state.Balance - expired };
            rows.Add(Row(memberId, Expired, "EXP-" + Day(now, policy), state, new Applied(after, -expired, 0, 0, 0), now));
            state = after;
        }
        return state;
    }

    /// <summary>
    /// The review windows the store sums earnings over: one for each member the batch settles whose
    /// review is due, by the same rule <see cref="Settle"/> decides it with.
    /// </summary>
    public static List<(long MemberId, DateTimeOffset Since, DateTimeOffset Until)> ReviewWindows(IReadOnlyList<PointChange> batch,
        IReadOnlyDictionary<long, PointsState> members, PointsPolicy policy, DateTimeOffset now)
    {
        var windows = new List<(long, DateTimeOffset, DateTimeOffset)>();
        if (policy.ReviewMonths is not { } months)
            return windows;
        foreach (var id in batch.Where(c => c.IsSettle).Select(c => c.MemberId).Distinct())
            if (members.TryGetValue(id, out var member) && LevelReview.DueAt(member.LevelSince, now, months, policy.Zone) is { } due)
                windows.Add((id, LevelReview.WindowStart(due, months, policy.Zone), due));
        return windows;
    }

    private static string Day(DateTimeOffset instant, PointsPolicy policy) =>
        TimeZoneInfo.ConvertTime(instant, policy.Zone).ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static PointEntry Row(long memberId, string type, string billNum, PointsState before, Applied applied, DateTimeOffset now) =>
        PointsDecider.NewEntry(new PointChange(memberId, type, billNum, applied.Change, null, PointChange.SystemActor, null), null, before, applied, now);
}
