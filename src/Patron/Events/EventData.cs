using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Events;

/// <summary>
/// The data of a set of events as they are sent, for the dispatcher and the console alike: an
/// event made of a ledger row or a card use is rendered from its row, the rows read once for the
/// set; every other event's data is stored with it. No write changes what an event reads of its
/// row (a cancel marks a use, and is an event of its own), so the data is the same whenever read.
/// </summary>
public static class EventData
{
    /// <summary>Each event's data by its id; null for an event whose row is gone.</summary>
    public static async Task<Dictionary<long, string?>> LoadAsync(PatronDb db, IReadOnlyCollection<OutboxEvent> events, CancellationToken ct)
    {
        var ledgerIds = events.Where(e => e.LedgerId is not null).Select(e => e.LedgerId!.Value).Distinct().ToList();
        var ledger = ledgerIds.Count == 0 ? []
            : await db.PointEntries.AsNoTracking().Where(r => ledgerIds.Contains(r.AutoId)).ToDictionaryAsync(r => r.AutoId, ct);
        var channelIds = events.Where(e => e.LedgerId is not null && e.ChannelId is not null).Select(e => e.ChannelId!.Value).Distinct().ToList();
        var channels = channelIds.Count == 0 ? []
            : await db.Channels.AsNoTracking().Where(c => channelIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, ct);
        var useIds = events.Where(e => e.UseId is not null).Select(e => e.UseId!.Value).Distinct().ToList();
        var uses = useIds.Count == 0 ? []
            : await db.CardUses.AsNoTracking().Where(u => useIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, ct);

        var data = new Dictionary<long, string?>(events.Count);
        foreach (var e in events)
            data[e.Id] = e switch
            {
                { LedgerId: { } row } => ledger.TryGetValue(row, out var entry)
                    ? OutboxEvents.LedgerData(e.Type, entry, e.ChannelId is { } channel ? channels.GetValueOrDefault(channel) : null)
                    : null,
                { UseId: { } row } => uses.TryGetValue(row, out var use) ? OutboxEvents.UseData(use, e.MemberId) : null,
                _ => e.Data,
            };
        return data;
    }
}
