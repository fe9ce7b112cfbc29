using System.Text.Json;
using Patron.Console;
using Patron.Events;
using Patron.Writes;

namespace Patron.Cards;

/// <summary>A cancel as the queue sees it: which use (by the channel that made it), and the operator who asked (null: the channel itself).</summary>
public sealed record CardCancelCall(int ChannelId, string UseNo, string? Actor = null);

/// <summary>A use to cancel, with its entry (read under lock), card and sale.</summary>
public sealed record CancelTarget(CardUse Use, UseTarget Target);

/// <summary>What a batch of cancels reads: the uses by (channel, useNo), and each entry's uncancelled uses' cycles.</summary>
public sealed record CardCancelBatchState(
    Dictionary<(int Channel, string UseNo), CancelTarget> Uses,
    Dictionary<string, List<int>> LiveCycles);

public sealed record CardCancelBatchPlan(Outcome<UsageEntryView>[] Outcomes, List<CardUse> Cancelled, List<CardUseLog> Log, List<UsageEntry> Changed,
    List<AuditEntry> Audits, List<OutboxEvent> Events) : IWritePlan<Outcome<UsageEntryView>>;

/// <summary>
/// Decides a batch of cancels one by one: a cancel gives its use back and recounts the entry from
/// the uses left; it keeps its answer, which a cancel of the same use gets again, whatever has
/// happened to the entry since (a refund, other uses). An operator's cancel is audited in the same plan. Pure.
/// </summary>
public static class CardCancelDecider
{
    public static CardCancelBatchPlan Decide(IReadOnlyList<CardCancelCall> calls, CardCancelBatchState state, DateTimeOffset at)
    {
        var now = at.ToUnixTimeMilliseconds();
        var outcomes = new Outcome<UsageEntryView>[calls.Count];
        var cancelled = new List<CardUse>();
        var events = new List<OutboxEvent>();
        var log = new List<CardUseLog>();
        var changed = new List<UsageEntry>();
        var audits = new List<AuditEntry>();
        for (var i = 0; i < calls.Count; i++)
        {
            var (channelId, useNo, actor) = calls[i];
            if (!state.Uses.TryGetValue((channelId, useNo), out var found))
            {
                outcomes[i] = new Failure(ErrorCode.MemberCardNotFound, $"use {useNo} not found");
                continue;
            }
            var (use, (card, entry, sale)) = found;
            if (use.CancelledAt is not null)
            {
                // A use cancelled before answers were kept is answered with its entry as it is now.
                outcomes[i] = use.CancelResultJson is { } kept
                    ? JsonSerializer.Deserialize(kept, CardJson.Default.UsageEntryView)!
                    : entry.ToView(card, sale, now);
                continue;
            }

            var usedBefore = entry.HasUsedNum;
            var cycles = state.LiveCycles[entry.Id];
            cycles.Remove(use.Cycle);
            var summary = UsageSummary.Of(cycles);
            (entry.HasUsedNum, entry.LastCycle, entry.LastCycleUsed) = (summary.HasUsedNum, summary.LastCycle, summary.LastCycleUsed);
            entry.LockVersion++;
            var view = entry.ToView(card, sale, now);
            use.CancelledAt = now;
            use.CancelResultJson = JsonSerializer.Serialize(view, CardJson.Default.UsageEntryView);
            cancelled.Add(use);
            events.Add(OutboxEvents.UseCancelled(use, card.MemberId, channelId, now));
            if (!changed.Contains(entry))
                changed.Add(entry);
            log.Add(new CardUseLog
            {
                UsageEntryId = entry.Id, Kind = "cancel", UseNo = useNo, Posid = use.Posid, ChannelId = channelId, At = now,
                HasUsedNumAfter = entry.HasUsedNum,
            });
            if (actor is not null)
                audits.Add(Audit.Entry(actor, at, "card.cancel-use", "use", useNo,
                    new { hasUsedNum = usedBefore, use.Posid, channel = sale.ChannelName, memberCardId = card.Id },
                    new { entry.HasUsedNum, cancelled = true, cardProductId = entry.CardProductId }));
            outcomes[i] = view;
        }
        return new CardCancelBatchPlan(outcomes, cancelled, log, changed, audits, events);
    }
}
