using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Events;

/// <summary>
/// The data of a set of events as they are sent, for the dispatcher and the console alike: an
/// event made of a ledger row is rendered from the row, read once for the set; every other
/// event's data is stored with it. The ledger is append-only, so the data is the same whenever it
/// is read.
/// </summary>
public static class EventData
{
    /// <summary>Each event's data by its id; null for an event whose ledger row is gone.</summary>
    public static async Task<Dictionary<long, string?>> LoadAsync(PatronDb db, IReadOnlyCollection<OutboxEvent> events, CancellationToken ct)
    {
        var ledgerIds = events.Where(e => e.LedgerId is not null).Select(e => e.LedgerId!.Value).Distinct().ToList();
        var ledger = ledgerIds.Count == 0 ? []
            : await db.PointEntries.AsNoTracking().Where(r => ledgerIds.Contains(r.AutoId)).ToDictionaryAsync(r => r.AutoId, ct);
        var channelIds = events.Where(e => e.LedgerId is not null && e.ChannelId is not null).Select(e => e.ChannelId!.Value).Distinct().ToList();
        var channels = channelIds.Count == 0 ? []
            : await db.Channels.AsNoTracking().Where(c => channelIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, ct);

        var data = new Dictionary<long, string?>(events.Count);
        foreach (var e in events)
            data[e.Id] = e.LedgerId is not { } row ? e.Data
                : ledger.TryGetValue(row, out var entry)
                    ? OutboxEvents.LedgerData(e.Type, entry, e.ChannelId is { } channel ? channels.GetValueOrDefault(channel) : null)
                    : null;
        return data;
    }
}
