using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Events;
using Patron.Events.Webhooks;

namespace Patron.Console.Pages.Webhooks;

/// <summary>One subscription's deliveries, newest first, a page at a time, by state if asked.</summary>
public sealed class DeliveriesModel(PatronDb db) : PageModel
{
    public const int PageSize = 50;

    public Webhook Webhook { get; private set; } = null!;
    public DeliveryPage Deliveries { get; private set; } = new([], null);

    /// <summary>The state asked for, when it is one; null lists every state.</summary>
    public string? State { get; private set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id, string? state, long? before, CancellationToken ct)
    {
        if (await db.Webhooks.AsNoTracking().SingleOrDefaultAsync(w => w.Id == id, ct) is not { } webhook)
            return NotFound();
        Webhook = webhook;
        if (!string.IsNullOrEmpty(state) && !WebhookViews.States.Contains(state))
            Error = "state: P, D or F";
        else
            State = string.IsNullOrEmpty(state) ? null : state;
        Deliveries = await WebhookViews.DeliveriesAsync(db, id, State, before, PageSize, ct);
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
