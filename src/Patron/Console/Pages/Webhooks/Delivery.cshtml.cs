using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Data;
using Patron.Events.Webhooks;

namespace Patron.Console.Pages.Webhooks;

/// <summary>One delivery: its attempts and the receivers' answers, the event's body, and a resend.</summary>
public sealed class DeliveryModel(PatronDb db, WebhookSecrets secrets, TimeProvider clock) : PageModel
{
    public DeliveryDetail Detail { get; private set; } = null!;
    public string? Error { get; private set; }
    public bool Resent { get; private set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        if (await WebhookViews.DeliveryAsync(db, id, ct) is not { } detail)
            return NotFound();
        Detail = detail;
        return Page();
    }

    public async Task<IActionResult> OnPostResendAsync(long id, CancellationToken ct)
    {
        var outcome = await new WebhookAdmin(db, secrets, clock).ResendAsync(User, id, ct);
        if (outcome.Refusal == WebhookRefusal.NotFound)
            return NotFound();
        db.ChangeTracker.Clear();
        (Error, Resent) = (outcome.Error, outcome.Error is null);
        return await OnGetAsync(id, ct);
    }
}
