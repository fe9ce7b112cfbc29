using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Patron.Console;
using Patron.Data;

namespace Patron.Events.Webhooks;

/// <summary>Why a change was refused, for the native API's status code.</summary>
public enum WebhookRefusal { None, Invalid, NotFound, Conflict }

/// <summary>What an operator's change to the webhooks came to: an error for the page, or a secret to show once.</summary>
public sealed record WebhookOutcome(string? Error = null, string? Secret = null, string? Done = null, WebhookRefusal Refusal = WebhookRefusal.None)
{
    public static WebhookOutcome Invalid(string error) => new(error, Refusal: WebhookRefusal.Invalid);

    public static WebhookOutcome NotFound(string error) => new(error, Refusal: WebhookRefusal.NotFound);

    public static WebhookOutcome Conflict(string error) => new(error, Refusal: WebhookRefusal.Conflict);
}

/// <summary>
/// An operator's changes to the subscriptions and their deliveries. Each commits with its audit
/// line (and that line's operator.changed event) in one SaveChanges; no audit line holds a secret.
/// </summary>
public sealed class WebhookAdmin(PatronDb db, WebhookSecrets secrets, TimeProvider clock)
{
    /// <summary>How long deliveries still carry a signature by the secret a rotation replaced.</summary>
    public static readonly TimeSpan RotationOverlap = TimeSpan.FromHours(24);

    private static object View(Webhook w) =>
        new { w.Name, w.Url, w.Events, w.Enabled, w.DisabledReason, w.FromCatalog };

    public async Task<WebhookOutcome> CreateAsync(ClaimsPrincipal user, string? name, string? url, string[]? events, CancellationToken ct)
    {
        name = name?.Trim();
        url = url?.Trim();
        var (stored, eventsError) = WebhookRules.Events(events);
        var errors = new[] { WebhookRules.NameError(name), WebhookRules.UrlError(url), eventsError }.OfType<string>().ToList();
        if (errors.Count > 0)
            return WebhookOutcome.Invalid(string.Join("; ", errors));
        if (await db.Webhooks.AnyAsync(w => w.Name == name, ct))
            return WebhookOutcome.Conflict($"There is already a webhook {name}.");

        var secret = WebhookSecrets.New();
        var now = clock.GetUtcNow();
        var hook = new Webhook { Name = name!, Url = url!, Events = stored!, Secret = secrets.Protect(secret), CreatedAt = now };
        db.Webhooks.Add(hook);
        db.Record(user, now, "webhook.create", "webhook", hook.Name, null, View(hook));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two operators made the same name at once: the unique index refused the second.
            if (!await NameTakenAsync(name!, ct))
                throw;
            return WebhookOutcome.Conflict($"There is already a webhook {name}.");
        }
        return new(Secret: secret, Done: hook.Name);
    }

    private async Task<bool> NameTakenAsync(string name, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        return await db.Webhooks.AnyAsync(w => w.Name == name, ct);
    }

    /// <summary>A new secret, shown once; the old one signs too for <see cref="RotationOverlap"/>, so receivers can switch over.</summary>
    public async Task<WebhookOutcome> RotateAsync(ClaimsPrincipal user, int id, CancellationToken ct)
    {
        if (await db.Webhooks.SingleOrDefaultAsync(w => w.Id == id, ct) is not { } hook)
            return WebhookOutcome.NotFound($"There is no webhook {id}.");
        var secret = WebhookSecrets.New();
        var now = clock.GetUtcNow();
        hook.PreviousSecret = hook.Secret;
        hook.PreviousUntil = now + RotationOverlap;
        hook.Secret = secrets.Protect(secret);
        db.Record(user, now, "webhook.rotate", "webhook", hook.Name, null, new { rotated = "secret", previousUntil = hook.PreviousUntil });
        await db.SaveChangesAsync(ct);
        return new(Secret: secret, Done: hook.Name);
    }

    public async Task<WebhookOutcome> SetEnabledAsync(ClaimsPrincipal user, int id, bool enabled, CancellationToken ct)
    {
        if (await db.Webhooks.SingleOrDefaultAsync(w => w.Id == id, ct) is not { } hook)
            return WebhookOutcome.NotFound($"There is no webhook {id}.");
        var before = View(hook);
        hook.Enabled = enabled;
        // Enabling clears why it was off (e.g. a 410 Gone); an operator's disabling says who did it in the audit log.
        hook.DisabledReason = enabled ? null : "disabled by an operator";
        db.Record(user, clock.GetUtcNow(), enabled ? "webhook.enable" : "webhook.disable", "webhook", hook.Name, before, View(hook));
        await db.SaveChangesAsync(ct);
        return new(Done: hook.Name);
    }

    /// <summary>
    /// Only a subscription an operator made: the catalog's would come back at the next catalog load,
    /// so it can only be disabled. Its deliveries and their attempts go with it.
    /// </summary>
    public async Task<WebhookOutcome> DeleteAsync(ClaimsPrincipal user, int id, CancellationToken ct)
    {
        if (await db.Webhooks.SingleOrDefaultAsync(w => w.Id == id, ct) is not { } hook)
            return WebhookOutcome.NotFound($"There is no webhook {id}.");
        if (hook.FromCatalog)
            return WebhookOutcome.Conflict($"The webhook {hook.Name} comes from the catalog: disable it, or remove it from the catalog.");
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var deliveries = db.WebhookDeliveries.Where(d => d.WebhookId == id).Select(d => d.Id);
        await db.WebhookAttempts.Where(a => deliveries.Contains(a.DeliveryId)).ExecuteDeleteAsync(ct);
        await db.WebhookDeliveries.Where(d => d.WebhookId == id).ExecuteDeleteAsync(ct);
        db.Webhooks.Remove(hook);
        db.Record(user, clock.GetUtcNow(), "webhook.delete", "webhook", hook.Name, View(hook), null);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new(Done: hook.Name);
    }

    /// <summary>
    /// Sends a delivery again, whatever its state: pending, no attempts counted, due now and no
    /// lease, so the next dispatcher pass claims it (after any earlier pending delivery of its member).
    /// </summary>
    public async Task<WebhookOutcome> ResendAsync(ClaimsPrincipal user, long id, CancellationToken ct)
    {
        if (await db.WebhookDeliveries.SingleOrDefaultAsync(d => d.Id == id, ct) is not { } delivery)
            return WebhookOutcome.NotFound($"There is no delivery {id}.");
        var before = new { delivery.State, delivery.Attempts, delivery.LastStatus };
        var now = clock.GetUtcNow();
        delivery.State = WebhookDelivery.Pending;
        delivery.Attempts = 0;
        delivery.DueAt = now;
        delivery.LeasedUntil = null;
        delivery.DoneAt = null;
        db.Record(user, now, "webhook.resend", "webhook-delivery", id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            before, new { delivery.State, delivery.Attempts, delivery.WebhookId, EventId = $"evt_{delivery.EventId}" });
        await db.SaveChangesAsync(ct);
        return new(Done: id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
