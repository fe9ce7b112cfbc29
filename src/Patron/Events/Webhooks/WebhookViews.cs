using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Events.Webhooks;

/// <summary>A subscription as operators see it: never its secret. PreviousUntil: while the secret before it still signs.</summary>
public sealed record WebhookView(int Id, string Name, string Url, IReadOnlyList<string> Events, bool Enabled, string? DisabledReason,
    bool FromCatalog, DateTimeOffset CreatedAt, DateTimeOffset? PreviousUntil, int Pending, int Failed);

/// <summary>
/// A delivery, with its event's id as receivers see it (webhook-id, <c>evt_…</c>) and type (null once
/// the event is pruned). State: P pending, D delivered, F failed.
/// </summary>
public sealed record DeliveryView(long Id, string EventId, string? Type, long? MemberId, string State, int Attempts,
    int? LastStatus, string? LastError, DateTimeOffset DueAt, DateTimeOffset? LeasedUntil, DateTimeOffset? DoneAt);

public sealed record DeliveryPage(IReadOnlyList<DeliveryView> Items, long? NextBefore);

public sealed record AttemptView(DateTimeOffset At, int? Status, int DurationMs, string? Answer, string? Error);

/// <summary>A delivery with its attempts, oldest first, and the body it is sent with (null once the event is pruned).</summary>
public sealed record DeliveryDetail(DeliveryView Delivery, int Webhook, string WebhookName, IReadOnlyList<AttemptView> Attempts, string? Body);

/// <summary>What the console and /api/v1 read about webhooks, in one place.</summary>
public static class WebhookViews
{
    public static readonly string[] States = [WebhookDelivery.Pending, WebhookDelivery.Delivered, WebhookDelivery.Failed];

    public static async Task<List<WebhookView>> ListAsync(PatronDb db, CancellationToken ct)
    {
        var counts = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.State == WebhookDelivery.Pending || d.State == WebhookDelivery.Failed)
            .GroupBy(d => new { d.WebhookId, d.State })
            .Select(g => new { g.Key.WebhookId, g.Key.State, Count = g.Count() })
            .ToListAsync(ct);
        int Count(int id, string state) => counts.Where(c => c.WebhookId == id && c.State == state).Sum(c => c.Count);
        return (await db.Webhooks.AsNoTracking().OrderBy(w => w.Name).ToListAsync(ct))
            .Select(w => new WebhookView(w.Id, w.Name, w.Url, w.Events.Split(' '), w.Enabled, w.DisabledReason, w.FromCatalog, w.CreatedAt,
                w.PreviousUntil, Count(w.Id, WebhookDelivery.Pending), Count(w.Id, WebhookDelivery.Failed)))
            .ToList();
    }

    /// <summary>A subscription's deliveries, newest first, those older than <paramref name="before"/>, of one state or all.</summary>
    public static async Task<DeliveryPage> DeliveriesAsync(PatronDb db, int webhookId, string? state, long? before, int limit, CancellationToken ct)
    {
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == webhookId);
        if (state is not null)
            query = query.Where(d => d.State == state);
        if (before is { } b)
            query = query.Where(d => d.Id < b);
        var page = await query.OrderByDescending(d => d.Id).Take(limit + 1).ToListAsync(ct);
        long? next = null;
        if (page.Count > limit)
        {
            page.RemoveAt(limit);
            next = page[^1].Id;
        }
        var eventIds = page.Select(d => d.EventId).Distinct().ToList();
        var types = await db.OutboxEvents.AsNoTracking().Where(e => eventIds.Contains(e.Id))
            .Select(e => new { e.Id, e.Type }).ToDictionaryAsync(e => e.Id, e => e.Type, ct);
        return new DeliveryPage(page.Select(d => View(d, types.GetValueOrDefault(d.EventId))).ToList(), next);
    }

    public static async Task<DeliveryDetail?> DeliveryAsync(PatronDb db, long id, CancellationToken ct)
    {
        if (await db.WebhookDeliveries.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, ct) is not { } delivery)
            return null;
        var name = await db.Webhooks.Where(w => w.Id == delivery.WebhookId).Select(w => w.Name).SingleOrDefaultAsync(ct);
        var attempts = await db.WebhookAttempts.AsNoTracking().Where(a => a.DeliveryId == id).OrderBy(a => a.Id)
            .Select(a => new AttemptView(a.At, a.Status, a.DurationMs, a.Answer, a.Error)).ToListAsync(ct);
        var ev = await db.OutboxEvents.AsNoTracking().SingleOrDefaultAsync(e => e.Id == delivery.EventId, ct);
        var body = ev is null ? null : Body(ev, (await EventData.LoadAsync(db, [ev], ct))[ev.Id]);
        return new DeliveryDetail(View(delivery, ev?.Type), delivery.WebhookId, name ?? "", attempts, body);
    }

    private static DeliveryView View(WebhookDelivery d, string? type) => new(d.Id, $"evt_{d.EventId}", type, d.MemberId, d.State,
        d.Attempts, d.LastStatus, d.LastError, d.DueAt, d.LeasedUntil, d.DoneAt);

    /// <summary>The body its receivers get (the one builder, <see cref="WebhookMessages.Body"/>), indented for reading.</summary>
    private static string Body(OutboxEvent e, string? data)
    {
        using var sent = JsonDocument.Parse(WebhookMessages.Body(e.Type, e.At, data));
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            sent.WriteTo(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
