using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Events;
using Patron.Events.Webhooks;

namespace Patron.Console.Pages.Webhooks;

/// <summary>One delivery: its attempts and the receivers' answers, the event's body, and a resend.</summary>
public sealed class DeliveryModel(PatronDb db, WebhookSecrets secrets, TimeProvider clock) : PageModel
{
    public WebhookDelivery Delivery { get; private set; } = null!;
    public Webhook Webhook { get; private set; } = null!;
    public OutboxEvent? Event { get; private set; }
    public List<WebhookAttempt> Attempts { get; private set; } = [];

    /// <summary>The body as sent (indented for reading); null once the event is pruned.</summary>
    public string? Body { get; private set; }

    public string? Error { get; private set; }
    public bool Resent { get; private set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        if (await db.WebhookDeliveries.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, ct) is not { } delivery)
            return NotFound();
        Delivery = delivery;
        Webhook = await db.Webhooks.AsNoTracking().SingleAsync(w => w.Id == delivery.WebhookId, ct);
        Attempts = await db.WebhookAttempts.AsNoTracking().Where(a => a.DeliveryId == id).OrderBy(a => a.Id).ToListAsync(ct);
        Event = await db.OutboxEvents.AsNoTracking().SingleOrDefaultAsync(e => e.Id == delivery.EventId, ct);
        if (Event is not null)
            Body = Render(Event, await DataAsync(Event, ct));
        return Page();
    }

    public async Task<IActionResult> OnPostResendAsync(long id, CancellationToken ct)
    {
        var outcome = await new WebhookAdmin(db, secrets, clock).ResendAsync(User, id, ct);
        db.ChangeTracker.Clear();
        if (outcome.Error is not null && !await db.WebhookDeliveries.AnyAsync(d => d.Id == id, ct))
            return NotFound();
        (Error, Resent) = (outcome.Error, outcome.Error is null);
        return await OnGetAsync(id, ct);
    }

    /// <summary>A ledger-made event's data is its (append-only) ledger row, rendered as the dispatcher renders it.</summary>
    private async Task<string?> DataAsync(OutboxEvent e, CancellationToken ct)
    {
        if (e.LedgerId is not { } ledgerId)
            return e.Data;
        if (await db.PointEntries.AsNoTracking().SingleOrDefaultAsync(p => p.AutoId == ledgerId, ct) is not { } row)
            return null;
        var channel = e.ChannelId is { } c ? await db.Channels.Where(x => x.Id == c).Select(x => x.Name).SingleOrDefaultAsync(ct) : null;
        return OutboxEvents.LedgerData(e.Type, row, channel);
    }

    private static string Render(OutboxEvent e, string? data)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("type", e.Type);
            w.WriteString("timestamp", e.At.ToUniversalTime());
            w.WritePropertyName("data");
            if (data is null)
                w.WriteNullValue();
            else
            {
                using var doc = JsonDocument.Parse(data);
                doc.WriteTo(w);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
