using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Events.Webhooks;

/// <summary>
/// Removes what <c>KeepDays</c> no longer keeps: settled deliveries with their attempts, then
/// events no delivery still names. Neither table has an index on its times (the hot path would
/// pay for one), but both are numbered in time order: the walk takes a range of ids at a time from
/// the oldest and stops at the first range holding a row made after the cutoff, so its cost
/// follows what it removes and not how much the tables hold.
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
        var walked = await WalkAsync(low => deliveries.Where(d => d.Id >= low).MinAsync(d => (long?)d.Id, ct), async (low, high) =>
        {
            var range = deliveries.Where(d => d.Id >= low && d.Id < high);
            var old = range.Where(d => d.State != WebhookDelivery.Pending && d.DoneAt < cutoff);
            // Bounded by the range too, so that the attempts are found through their index whatever the plan.
            await db.Set<WebhookAttempt>().Where(a => a.DeliveryId >= low && a.DeliveryId < high && old.Any(d => d.Id == a.DeliveryId))
                .ExecuteDeleteAsync(ct);
            await old.ExecuteDeleteAsync(ct);
            return await range.AnyAsync(d => d.CreatedAt >= cutoff, ct);
        });
        walked += await WalkAsync(low => events.Where(e => e.Id >= low).MinAsync(e => (long?)e.Id, ct), async (low, high) =>
        {
            var range = events.Where(e => e.Id >= low && e.Id < high);
            await range.Where(e => e.At < cutoff && !deliveries.Any(d => d.EventId == e.Id)).ExecuteDeleteAsync(ct);
            return await range.AnyAsync(e => e.At >= cutoff, ct);
        });
        return walked;
    }

    /// <summary>
    /// Prunes one range of ids after another, from the first id at or after each range's start,
    /// until a range says it held a row made after the cutoff. Returns the ranges walked.
    /// </summary>
    private async Task<int> WalkAsync(Func<long, Task<long?>> firstFrom, Func<long, long, Task<bool>> pruneRange)
    {
        var walked = 0;
        for (var from = await firstFrom(long.MinValue); from is { } low; from = await firstFrom(low + Range))
        {
            walked++;
            if (await pruneRange(low, low + Range))
                break;
        }
        return walked;
    }
}
