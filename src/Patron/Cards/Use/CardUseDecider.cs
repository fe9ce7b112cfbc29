using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Patron.Events;
using Patron.Writes;

namespace Patron.Cards;

public sealed record UseRequest(string CardRef, string CardProductId, string Posid, string UseNo, long? UseTime)
{
    /// <summary>A default useTime is left out: a retry sent later must still count as the same use.</summary>
    public string Hash() => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', CardRef, CardProductId, Posid, UseTime))));
}

/// <summary>
/// One use as the queue sees it: who asked, and what, with the channel's bound on a late useTime,
/// decided after the kept answer is looked up (a retry of an answered use gets its answer).
/// </summary>
public sealed record CardUseCall(int ChannelId, UseRequest Request, int MaxAgeDays = CardTimes.DefaultMaxAgeDays);

/// <summary>An entry with the card and sale its answer needs; the entry is read under lock.</summary>
public sealed record UseTarget(MemberCard Card, UsageEntry Entry, CardSale Sale);

/// <summary>What a batch of uses reads before deciding them.</summary>
public sealed record CardUseBatchState(
    Dictionary<(int Channel, string UseNo), KeptAnswer> Earlier,
    Dictionary<(string CardRef, string ProductId), UseTarget> Targets,
    Dictionary<(string EntryId, int Cycle), int> OlderCycleCounts);

/// <param name="Events">Each new use's card.used, in step with <paramref name="Uses"/>: the store links each to its use's row.</param>
public sealed record CardUseBatchPlan(Outcome<UsageEntryView>[] Outcomes, List<CardUse> Uses, List<CardUseLog> Log, List<UsageEntry> Changed,
    List<OutboxEvent> Events) : IWritePlan<Outcome<UsageEntryView>>;

/// <summary>
/// Decides a batch of card uses as if they had arrived one by one: each checks the quotas as the
/// uses before it left them; one that is refused fails alone; a repeated useNo answers with the
/// first outcome. Pure: the store reads the state under lock and writes the plan.
/// </summary>
public static class CardUseDecider
{
    /// <summary>
    /// The (entry, cycle) pairs whose use counts are not in the entry's summary: uses sent late,
    /// for a cycle before the entry's last. Only these need a count from the uses table.
    /// </summary>
    public static HashSet<(string EntryId, int Cycle)> OlderCycles(IEnumerable<CardUseCall> calls,
        Dictionary<(string, string), UseTarget> targets, long now)
    {
        var older = new HashSet<(string, int)>();
        foreach (var call in calls)
            if (targets.TryGetValue((call.Request.CardRef, call.Request.CardProductId), out var target))
            {
                var entry = target.Entry;
                var cycle = CardCalendar.CycleOf(call.Request.UseTime ?? now, entry.BeginTime, entry.CycleDays, CardCalendar.ZoneOf(target.Card));
                if (cycle < entry.LastCycle)
                    older.Add((entry.Id, cycle));
            }
        return older;
    }

    public static CardUseBatchPlan Decide(IReadOnlyList<CardUseCall> calls, CardUseBatchState state, DateTimeOffset at)
    {
        var now = at.ToUnixTimeMilliseconds();
        var outcomes = new Outcome<UsageEntryView>[calls.Count];
        var uses = new List<CardUse>();
        var events = new List<OutboxEvent>();
        var log = new List<CardUseLog>();
        var changed = new List<UsageEntry>();
        var firstLastCycle = new Dictionary<string, int>();
        var counts = new Dictionary<(string, int), int>();
        var taken = new Dictionary<(int, string), (string Hash, UsageEntryView View)>();

        for (var i = 0; i < calls.Count; i++)
        {
            var (channelId, request, maxAgeDays) = calls[i];
            var hash = request.Hash();
            if (state.Earlier.TryGetValue((channelId, request.UseNo), out var earlier))
            {
                outcomes[i] = earlier.RequestHash == hash
                    ? JsonSerializer.Deserialize(earlier.Json, CardJson.Default.UsageEntryView)!
                    : Reused(request.UseNo);
                continue;
            }
            if (taken.TryGetValue((channelId, request.UseNo), out var first))
            {
                outcomes[i] = first.Hash == hash ? first.View : Reused(request.UseNo);
                continue;
            }
            if (CardTimes.TooOld("useTime", request.UseTime, maxAgeDays, now) is { } tooOld)
            {
                outcomes[i] = tooOld;
                continue;
            }
            if (!state.Targets.TryGetValue((request.CardRef, request.CardProductId), out var target))
            {
                outcomes[i] = new Failure(ErrorCode.MemberCardNotFound, $"member card {request.CardRef} has no product {request.CardProductId}");
                continue;
            }

            var (card, entry, sale) = target;
            if (firstLastCycle.TryAdd(entry.Id, entry.LastCycle))
                counts[(entry.Id, entry.LastCycle)] = entry.LastCycleUsed;
            int UsedIn(int cycle) => counts.TryGetValue((entry.Id, cycle), out var n) ? n
                : cycle > firstLastCycle[entry.Id] ? 0
                : state.OlderCycleCounts.GetValueOrDefault((entry.Id, cycle));

            var t = request.UseTime ?? now;
            var decided = CardRules.Use(card, entry, entry.HasUsedNum, UsedIn, t);
            if (decided.Failure is { } refused)
            {
                outcomes[i] = refused;
                continue;
            }

            var cycle = decided.Value;
            counts[(entry.Id, cycle)] = UsedIn(cycle) + 1;
            entry.HasUsedNum++;
            if (cycle >= entry.LastCycle)
                (entry.LastCycle, entry.LastCycleUsed) = (cycle, counts[(entry.Id, cycle)]);
            entry.Posid = request.Posid;
            entry.LockVersion++;
            if (!changed.Contains(entry))
                changed.Add(entry);

            var view = entry.ToView(card, sale, now);
            uses.Add(new CardUse
            {
                ChannelId = channelId, UseNo = request.UseNo, UsageEntryId = entry.Id, MemberCardId = card.Id, Posid = request.Posid,
                UseTime = t, Cycle = cycle, CreatedAt = now, RequestHash = hash,
                ResultJson = JsonSerializer.Serialize(view, CardJson.Default.UsageEntryView),
            });
            log.Add(new CardUseLog
            {
                UsageEntryId = entry.Id, Kind = "use", UseNo = request.UseNo, Posid = request.Posid, ChannelId = channelId, At = now,
                HasUsedNumAfter = entry.HasUsedNum,
            });
            events.Add(OutboxEvents.Used(uses[^1], card.MemberId));
            taken[(channelId, request.UseNo)] = (hash, view);
            outcomes[i] = view;
        }
        return new CardUseBatchPlan(outcomes, uses, log, changed, events);
    }

    private static Failure Reused(string useNo) =>
        new(ErrorCode.IdempotencyKeyReused, $"useNo {useNo} was already used for a different use");
}
