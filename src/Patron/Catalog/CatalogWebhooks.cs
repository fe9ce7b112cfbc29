using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Events;
using Patron.Events.Webhooks;

namespace Patron.Catalog;

/// <summary>A subscriber in the catalog: <c>{"name", "url", "events", "secret"}</c> (docs/events.md).</summary>
public sealed record CatalogWebhook(string? Name, string? Url, List<string>? Events, string? Secret);

public static class CatalogWebhooks
{
    /// <summary>How long deliveries carry a signature by the old secret too, after the catalog changed it.</summary>
    public static readonly TimeSpan RotationOverlap = TimeSpan.FromHours(24);

    public static IEnumerable<(string Where, string Problem)> Problems(List<CatalogWebhook>? webhooks)
    {
        var list = webhooks ?? [];
        for (var i = 0; i < list.Count; i++)
        {
            var w = list[i];
            var at = $"webhooks[{i}]";
            if (w.Name is not { Length: >= 1 and <= 64 } || !w.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                yield return ($"{at}.name", "required, 1 to 64 letters, digits, '-' or '_'");
            else if (list.Take(i).Any(o => o.Name == w.Name))
                yield return ($"{at}.name", $"webhook '{w.Name}' is listed twice");
            if (!Uri.TryCreate(w.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || w.Url!.Length > 2000)
                yield return ($"{at}.url", "required, an absolute http:// or https:// URL of at most 2000 characters");
            if (w.Events is not { Count: > 0 })
                yield return ($"{at}.events", $"at least one of {string.Join(", ", EventTypes.All)} or \"*\"");
            foreach (var type in w.Events ?? [])
                if (type != "*" && !EventTypes.All.Contains(type))
                    yield return ($"{at}.events", $"unknown event type '{type}'; known: {string.Join(", ", EventTypes.All)} or \"*\"");
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
            var events = string.Join(' ', w.Events!.Distinct());
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
                (hook.PreviousSecret, hook.PreviousUntil, hook.Secret) = (hook.Secret, now + RotationOverlap, secrets.Protect(w.Secret!));
        }
    }
}
