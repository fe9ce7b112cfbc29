using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Events;
using Patron.Events.Webhooks;

namespace Patron.Catalog;

/// <summary>A subscriber in the catalog: <c>{"name", "url", "events", "secret"}</c> (docs/events.md).</summary>
public sealed record CatalogWebhook(string? Name, string? Url, List<string>? Events, string? Secret);

public static class CatalogWebhooks
{
    /// <summary>The console's rules (<see cref="WebhookRules"/>), each problem named by where it is in the file.</summary>
    public static IEnumerable<(string Where, string Problem)> Problems(List<CatalogWebhook>? webhooks)
    {
        var list = webhooks ?? [];
        for (var i = 0; i < list.Count; i++)
        {
            var w = list[i];
            var at = $"webhooks[{i}]";
            if (WebhookRules.NameError(w.Name) is { } name)
                yield return ($"{at}.name", name);
            else if (list.Take(i).Any(o => o.Name == w.Name))
                yield return ($"{at}.name", $"webhook '{w.Name}' is listed twice");
            if (WebhookRules.UrlError(w.Url) is { } url)
                yield return ($"{at}.url", url);
            if (WebhookRules.Events(w.Events).Error is { } events)
                yield return ($"{at}.events", events);
            // The secret itself is never repeated in a message.
            if (WebhookSecrets.Key(w.Secret) is null)
                yield return ($"{at}.secret", $"required, \"{WebhookSecrets.Prefix}\" and the base64 of {WebhookSecrets.MinBytes} to {WebhookSecrets.MaxBytes} bytes");
        }
    }

    /// <summary>
    /// Upserts the catalog's subscribers by name. A changed secret keeps the old one as previous
    /// for a day, so receivers can switch without missing a delivery; a changed URL turns a
    /// subscription a 410 disabled back on, since it now points somewhere else.
    /// </summary>
    public static async Task ApplyAsync(PatronDb db, WebhookSecrets secrets, List<CatalogWebhook>? webhooks, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var w in webhooks ?? [])
        {
            var events = WebhookRules.Events(w.Events).Stored!;
            var hook = await db.Set<Webhook>().SingleOrDefaultAsync(x => x.Name == w.Name, ct);
            if (hook is null)
            {
                db.Add(new Webhook { Name = w.Name!, Url = w.Url!, Events = events, Secret = secrets.Protect(w.Secret!), FromCatalog = true, CreatedAt = now });
                continue;
            }
            if (hook.Url != w.Url)
                (hook.Url, hook.Enabled, hook.DisabledReason) = (w.Url!, true, null);
            hook.Events = events;
            hook.FromCatalog = true;
            // Encrypting again would store a different ciphertext of the same secret: only a changed one is written.
            if (secrets.Reveal(hook.Secret) != w.Secret)
                (hook.PreviousSecret, hook.PreviousUntil, hook.Secret) = (hook.Secret, now + WebhookAdmin.RotationOverlap, secrets.Protect(w.Secret!));
        }
    }
}
