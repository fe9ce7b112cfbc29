using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Events;

/// <summary>
/// The data of a set of events as they are sent: an event made of a row (a ledger row, a card use)
/// is rendered from the row, read once for the set, every other event's data is stored with it.
/// The rows never change after the event is written (the ledger is append-only; a cancel leaves a
/// use's answer as it was), so the data is the same whenever it is read.
/// </summary>
public static class EventData
{
    /// <summary>Each event's data by its id; null for an event whose row is gone.</summary>
    public static async Task<Dictionary<long, string?>> LoadAsync(PatronDb db, IReadOnlyCollection<OutboxEvent> events, CancellationToken ct)
    {
        var ledgerIds = events.Where(e => e.LedgerId is not null).Select(e => e.LedgerId!.Value).Distinct().ToList();
        var ledger = ledgerIds.Count == 0 ? []
            : await db.PointEntries.AsNoTracking().Where(r => ledgerIds.Contains(r.AutoId)).ToDictionaryAsync(r => r.AutoId, ct);
        var useIds = events.Where(e => e.CardUseId is not null).Select(e => e.CardUseId!.Value).Distinct().ToList();
        var uses = useIds.Count == 0 ? [] : await db.CardUses.AsNoTracking().Where(u => useIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, ct);
        var channelIds = events.Where(e => e.LedgerId is not null && e.ChannelId is not null).Select(e => e.ChannelId!.Value).Distinct().ToList();
        var channels = channelIds.Count == 0 ? []
            : await db.Channels.AsNoTracking().Where(c => channelIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, ct);

        var data = new Dictionary<long, string?>(events.Count);
        foreach (var e in events)
            data[e.Id] = (e.LedgerId, e.CardUseId) switch
            {
                ({ } row, _) => ledger.TryGetValue(row, out var entry)
                    ? OutboxEvents.LedgerData(e.Type, entry, e.ChannelId is { } channel ? channels.GetValueOrDefault(channel) : null)
                    : null,
                (_, { } use) => uses.TryGetValue(use, out var used) ? OutboxEvents.UseData(used, e.MemberId) : null,
                _ => e.Data,
            };
        return data;
    }
}
