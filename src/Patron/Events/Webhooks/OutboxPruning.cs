using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Events.Webhooks;

/// <summary>
/// Removes what <c>KeepDays</c> no longer keeps: settled deliveries with their attempts, then
/// dispatched events no delivery still names. Neither table has an index on its times (the hot
/// path would pay for one), but both are numbered in time order: the walk takes a range of ids at
/// a time from the oldest and stops at the first range holding a row made after the cutoff, so its
/// cost follows what it removes and not how much the tables hold.
/// </summary>
public sealed class OutboxPruning(IServiceScopeFactory scopes)
{
    /// <summary>Ids a step covers: one short transaction each, so the writes are never held up for long.</summary>
    public int Range { get; init; } = 5000;

    /// <summary>Prunes both tables; returns the ranges it walked, for tests.</summary>
    public async Task<int> PruneAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var deliveries = db.Set<WebhookDelivery>();
        var events = db.Set<OutboxEvent>();
        var walked = 0;
        for (var from = await deliveries.MinAsync(d => (long?)d.Id, ct); from is { } low; from = await deliveries.Where(d => d.Id >= low + Range).MinAsync(d => (long?)d.Id, ct))
        {
            walked++;
            var range = deliveries.Where(d => d.Id >= low && d.Id < low + Range);
            var old = range.Where(d => d.State != WebhookDelivery.Pending && d.DoneAt < cutoff);
            // Bounded by the range too, so that the attempts are found through their index whatever the plan.
            await db.Set<WebhookAttempt>().Where(a => a.DeliveryId >= low && a.DeliveryId < low + Range && old.Any(d => d.Id == a.DeliveryId))
                .ExecuteDeleteAsync(ct);
            await old.ExecuteDeleteAsync(ct);
            if (await range.AnyAsync(d => d.CreatedAt >= cutoff, ct))
                break;
        }
        for (var from = await events.MinAsync(e => (long?)e.Id, ct); from is { } low; from = await events.Where(e => e.Id >= low + Range).MinAsync(e => (long?)e.Id, ct))
        {
            walked++;
            var range = events.Where(e => e.Id >= low && e.Id < low + Range);
            await range.Where(e => e.Dispatched && e.At < cutoff && !deliveries.Any(d => d.EventId == e.Id)).ExecuteDeleteAsync(ct);
            if (await range.AnyAsync(e => e.At >= cutoff, ct))
                break;
        }
        return walked;
    }
}
