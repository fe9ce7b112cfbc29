using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Events;

namespace Patron.Console.Pages.Webhooks;

/// <summary>A delivery as the list shows it, with its event's type (null once the event is pruned).</summary>
public sealed record DeliveryRow(long Id, long EventId, string? Type, long? MemberId, string State, int Attempts,
    int? LastStatus, DateTimeOffset DueAt, DateTimeOffset? DoneAt);

/// <summary>One subscription's deliveries, newest first, a page at a time, by state if asked.</summary>
public sealed class DeliveriesModel(PatronDb db) : PageModel
{
    public const int PageSize = 50;

    public static readonly string[] States = [WebhookDelivery.Pending, WebhookDelivery.Delivered, WebhookDelivery.Failed];

    public Webhook Webhook { get; private set; } = null!;
    public List<DeliveryRow> Deliveries { get; private set; } = [];

    /// <summary>The state asked for, when it is one; null lists every state.</summary>
    public string? State { get; private set; }

    /// <summary>Where the next page starts (deliveries older than this id), when there is one.</summary>
    public long? Next { get; private set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id, string? state, long? before, CancellationToken ct)
    {
        if (await db.Webhooks.AsNoTracking().SingleOrDefaultAsync(w => w.Id == id, ct) is not { } webhook)
            return NotFound();
        Webhook = webhook;
        if (!string.IsNullOrEmpty(state) && !States.Contains(state))
            Error = "state: P, D or F";
        else
            State = string.IsNullOrEmpty(state) ? null : state;

        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == id);
        if (State is not null)
            query = query.Where(d => d.State == State);
        if (before is { } b)
            query = query.Where(d => d.Id < b);
        var page = await query.OrderByDescending(d => d.Id).Take(PageSize + 1).ToListAsync(ct);
        if (page.Count > PageSize)
        {
            page.RemoveAt(PageSize);
            Next = page[^1].Id;
        }
        var eventIds = page.Select(d => d.EventId).Distinct().ToList();
        var types = await db.OutboxEvents.AsNoTracking().Where(e => eventIds.Contains(e.Id))
            .Select(e => new { e.Id, e.Type }).ToDictionaryAsync(e => e.Id, e => e.Type, ct);
        Deliveries = page.Select(d => new DeliveryRow(d.Id, d.EventId, types.GetValueOrDefault(d.EventId), d.MemberId, d.State,
            d.Attempts, d.LastStatus, d.DueAt, d.DoneAt)).ToList();
        return Page();
    }

    public static string StateName(string state) => state switch
    {
        WebhookDelivery.Pending => "to send",
        WebhookDelivery.Delivered => "delivered",
        WebhookDelivery.Failed => "failed",
        _ => state,
    };

    /// <summary>Times in UTC, said so: deliveries are the machines' business, not the chain's day.</summary>
    public static string Utc(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") + " UTC" : "";
}
