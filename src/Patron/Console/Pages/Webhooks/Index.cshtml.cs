using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Data;
using Patron.Events.Webhooks;

namespace Patron.Console.Pages.Webhooks;

public sealed class WebhooksModel(PatronDb db, WebhookSecrets secrets, TimeProvider clock) : PageModel
{
    public List<WebhookView> Webhooks { get; private set; } = [];

    /// <summary>A secret just made, rendered in this one answer and nowhere else.</summary>
    public string? NewSecret { get; private set; }

    /// <summary>Whose secret <see cref="NewSecret"/> is, or what was just changed.</summary>
    public string? Done { get; private set; }

    public string? Error { get; private set; }

    /// <summary>What the create form was sent, to fill it again after an error.</summary>
    public string? FormName { get; private set; }

    public string? FormUrl { get; private set; }
    public string[] FormEvents { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    private WebhookAdmin Admin => new(db, secrets, clock);

    public async Task OnGetAsync(CancellationToken ct)
    {
        Now = clock.GetUtcNow();
        Webhooks = await WebhookViews.ListAsync(db, ct);
    }

    public async Task<IActionResult> OnPostAsync(string? name, string? url, string[]? events, CancellationToken ct)
    {
        var outcome = await Admin.CreateAsync(User, name, url, events, ct);
        if (outcome.Error is not null)
            (FormName, FormUrl, FormEvents) = (name, url, events ?? []);
        return await ShowAsync(outcome, ct);
    }

    public async Task<IActionResult> OnPostRotateAsync(int id, CancellationToken ct) => await ShowAsync(await Admin.RotateAsync(User, id, ct), ct);

    public async Task<IActionResult> OnPostEnableAsync(int id, CancellationToken ct) => await ShowAsync(await Admin.SetEnabledAsync(User, id, true, ct), ct);

    public async Task<IActionResult> OnPostDisableAsync(int id, CancellationToken ct) => await ShowAsync(await Admin.SetEnabledAsync(User, id, false, ct), ct);

    public async Task<IActionResult> OnPostDeleteAsync(int id, CancellationToken ct) => await ShowAsync(await Admin.DeleteAsync(User, id, ct), ct);

    private async Task<IActionResult> ShowAsync(WebhookOutcome outcome, CancellationToken ct)
    {
        (Error, NewSecret, Done) = (outcome.Error, outcome.Secret, outcome.Done);
        db.ChangeTracker.Clear();
        await OnGetAsync(ct);
        return Page();
    }
}
