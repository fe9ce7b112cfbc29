using Patron.Console;
using Patron.Levels;
using Patron.Writes;

namespace Patron.Points;

/// <summary>What a batch transaction reads, under lock, before deciding its requests.</summary>
public sealed record PointsBatchState(
    Dictionary<long, PointsState> Members,
    Dictionary<PointKey, PointEntry> Earlier,
    LevelTable Levels);

/// <summary>
/// The decisions for one batch: each request's outcome, the ledger rows to add, the members' new
/// states, and an audit row for each operator's change.
/// </summary>
public sealed record PointsBatchPlan(Outcome<PointEntry>[] Outcomes, List<PointEntry> NewEntries, Dictionary<long, PointsState> Changed,
    List<AuditEntry> Audits) : IWritePlan<Outcome<PointEntry>>;

/// <summary>
/// Decides a batch of points changes as if they had arrived one by one, in order: a member's
/// changes chain their before and after balances; a request that breaks a rule fails alone; a
/// repeated Idempotency-Key, earlier or in the same batch, answers with the first outcome.
/// Pure: the store reads the state and writes the plan.
/// </summary>
public static class PointsDecider
{
    public static PointsBatchPlan Decide(IReadOnlyList<PointChange> changes, PointsBatchState state, DateTimeOffset now)
    {
        var outcomes = new Outcome<PointEntry>[changes.Count];
        var entries = new List<PointEntry>(changes.Count);
        var members = new Dictionary<long, PointsState>(state.Members);
        var changed = new Dictionary<long, PointsState>();
        var taken = new Dictionary<PointKey, PointEntry>();
        var audits = new List<AuditEntry>();

        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            var hash = change.IdempotencyKey is null ? null : change.RequestHash();
            if (change.Key is { } key && (state.Earlier.TryGetValue(key, out var first) || taken.TryGetValue(key, out first)))
            {
                outcomes[i] = first.RequestHash == hash
                    ? first
                    : new Failure(ErrorCode.IdempotencyKeyReused, "Idempotency-Key was already used with a different request");
                continue;
            }
            if (!members.TryGetValue(change.MemberId, out var before))
            {
                outcomes[i] = new Failure(ErrorCode.MemberNotFound, $"member {change.MemberId} not found");
                continue;
            }

            var applied = PointRules.Apply(before, change.BusiType[0], change.ChangeValue, state.Levels);
            if (applied.Failure is { } failure)
            {
                outcomes[i] = failure;
                continue;
            }
            var after = applied.Value;
            var entry = NewEntry(change, hash, before, after, now);
            members[change.MemberId] = after;
            changed[change.MemberId] = after;
            if (change.Key is { } newKey)
                taken[newKey] = entry;
            entries.Add(entry);
            if (change.ByOperator)
                audits.Add(Audit.Entry(change.Actor, now, "points.adjust", "member", change.MemberId.ToString(),
                    new { balance = before.Balance, level = before.LevelId },
                    new { balance = after.Balance, level = after.LevelId, entry.ChangeValue, entry.BusiType }));
            outcomes[i] = entry;
        }
        return new PointsBatchPlan(outcomes, entries, changed, audits);
    }

    /// <summary>The ledger row of an applied change: its own before and after, who asked, and its key.</summary>
    public static PointEntry NewEntry(PointChange change, string? hash, PointsState before, PointsState after, DateTimeOffset now) => new()
    {
        MemberId = change.MemberId,
        BusiType = change.BusiType,
        BusiBillNum = change.BusiBillNum,
        ChangeValue = after.Balance - before.Balance,
        BalanceBefore = before.Balance,
        BalanceAfter = after.Balance,
        LevelBefore = before.LevelId,
        LevelAfter = after.LevelId,
        ChannelId = change.ChannelId,
        Actor = change.Actor,
        // To the millisecond, as both dialects keep it: a retry's answer, read back, equals the first.
        CreatedAt = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond)),
        IdempotencyKey = change.IdempotencyKey,
        RequestHash = hash,
    };
}
