using Patron.Console;
using Patron.Points.Lots;
using Patron.Writes;

namespace Patron.Points;

/// <summary>What a batch transaction reads, under lock, before deciding its requests.</summary>
/// <param name="Lots">The live lots of every member a request of the batch takes from (<see cref="PointChange.Consumes"/>).</param>
/// <param name="ReviewEarned">For each member being settled whose level review is due: what they earned in the review's window.</param>
public sealed record PointsBatchState(
    Dictionary<long, PointsState> Members,
    Dictionary<PointKey, PointEntry> Earlier,
    Dictionary<long, List<PointLot>> Lots,
    Dictionary<long, long> ReviewEarned,
    PointsPolicy Policy);

/// <summary>
/// The decisions for one batch: each request's outcome, the ledger rows to add, the members' new
/// states, the lots to add and to update, and an audit row for each operator's change and review.
/// </summary>
public sealed record PointsBatchPlan(Outcome<PointEntry>[] Outcomes, List<PointEntry> NewEntries, Dictionary<long, PointsState> Changed,
    List<PointLot> NewLots, List<PointLot> ChangedLots, List<AuditEntry> Audits) : IWritePlan<Outcome<PointEntry>>;

/// <summary>
/// Decides a batch of points changes as if they had arrived one by one, in order: a member's
/// changes chain their before and after balances and their lots; a request that breaks a rule
/// fails alone; a repeated Idempotency-Key, earlier or in the same batch, answers with the first
/// outcome. Pure: the store reads the state and writes the plan.
/// </summary>
public static class PointsDecider
{
    public static PointsBatchPlan Decide(IReadOnlyList<PointChange> changes, PointsBatchState state, DateTimeOffset clock)
    {
        // To the millisecond, as both dialects keep it: a retry's answer, read back, equals the first.
        var now = clock.AddTicks(-(clock.Ticks % TimeSpan.TicksPerMillisecond));
        var outcomes = new Outcome<PointEntry>[changes.Count];
        var entries = new List<PointEntry>(changes.Count);
        var members = new Dictionary<long, PointsState>(state.Members);
        var changed = new Dictionary<long, PointsState>();
        var taken = new Dictionary<PointKey, PointEntry>();
        var audits = new List<AuditEntry>();
        var (newLots, changedLots) = (new List<PointLot>(), new List<PointLot>());
        var touched = new HashSet<PointLot>(ReferenceEqualityComparer.Instance);
        void Touch(PointLot lot)
        {
            if (touched.Add(lot))
                (lot.Id == 0 ? newLots : changedLots).Add(lot);
        }
        var memberLots = new Dictionary<long, MemberLots>();
        MemberLots LotsOf(PointChange change)
        {
            if (memberLots.TryGetValue(change.MemberId, out var lots))
                return lots;
            if (!state.Lots.TryGetValue(change.MemberId, out var read) && change.Consumes)
                throw new InvalidOperationException($"the store did not read the lots of member {change.MemberId}");
            return memberLots[change.MemberId] = new MemberLots(read ?? [], Touch);
        }

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

            PointsState after;
            if (change.IsSettle)
            {
                var rows = entries.Count;
                after = Settlement.Settle(change.MemberId, before, LotsOf(change), state.ReviewEarned.TryGetValue(change.MemberId, out var e) ? e : null,
                    state.Policy, now, entries, audits);
                // Nothing due is no row and no answer: another instance, or an earlier run, settled it.
                if (entries.Count > rows)
                    outcomes[i] = entries[^1];
            }
            else
            {
                var applied = PointRules.Apply(before, LotsOf(change), change, state.Policy, now);
                if (applied.Failure is { } failure)
                {
                    outcomes[i] = failure;
                    continue;
                }
                after = applied.Value.After;
                var entry = NewEntry(change, hash, before, applied.Value, now);
                if (change.Key is { } newKey)
                    taken[newKey] = entry;
                entries.Add(entry);
                if (change.ByOperator)
                    audits.Add(Audit.Entry(change.Actor, now, "points.adjust", "member", change.MemberId.ToString(),
                        new { balance = before.Balance, level = before.LevelId },
                        new { balance = after.Balance, level = after.LevelId, entry.ChangeValue, entry.BusiType, entry.PendingValue, entry.Shortfall }));
                outcomes[i] = entry;
            }
            if (after != before)
                members[change.MemberId] = changed[change.MemberId] = after;
        }
        return new PointsBatchPlan(outcomes, entries, changed, newLots, changedLots, audits);
    }

    /// <summary>The ledger row of an applied change: its own before and after, who asked, and its key.</summary>
    public static PointEntry NewEntry(PointChange change, string? hash, PointsState before, Applied applied, DateTimeOffset now) => new()
    {
        MemberId = change.MemberId,
        BusiType = change.BusiType,
        BusiBillNum = change.BusiBillNum,
        ChangeValue = applied.Change,
        BalanceBefore = before.Balance,
        BalanceAfter = applied.After.Balance,
        LevelBefore = before.LevelId,
        LevelAfter = applied.After.LevelId,
        ChannelId = change.ChannelId,
        Actor = change.Actor,
        CreatedAt = now,
        IdempotencyKey = change.IdempotencyKey,
        RequestHash = hash,
        Earned = applied.Earned,
        PendingValue = applied.PendingValue,
        Shortfall = applied.Shortfall,
    };
}
