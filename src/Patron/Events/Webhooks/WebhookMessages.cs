using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Events.Webhooks;

/// <summary>What one claimed delivery sends: where, the body, and the keys that sign it (none when its secret cannot be read).</summary>
public sealed record WebhookMessage(ClaimedDelivery Delivery, string WebhookName, string Url, string Id, string Body, byte[][] Keys);

/// <summary>
/// Builds the messages of a batch of claimed deliveries, reading each event, subscriber, ledger
/// row and channel once for the batch.
/// </summary>
public sealed class WebhookMessages(WebhookSecrets secrets)
{
    /// <summary>The <c>webhook-id</c> of an event: the same for every subscriber and every retry, so receivers can dedupe.</summary>
    public static string EventId(long id) => $"evt_{id}";

    public async Task<List<WebhookMessage>> LoadAsync(PatronDb db, IReadOnlyList<ClaimedDelivery> claimed, DateTimeOffset now, CancellationToken ct)
    {
        var eventIds = claimed.Select(c => c.EventId).Distinct().ToList();
        var hookIds = claimed.Select(c => c.WebhookId).Distinct().ToList();
        var events = await db.Set<OutboxEvent>().AsNoTracking().Where(e => eventIds.Contains(e.Id)).ToDictionaryAsync(e => e.Id, ct);
        var hooks = await db.Set<Webhook>().AsNoTracking().Where(w => hookIds.Contains(w.Id)).ToDictionaryAsync(w => w.Id, ct);
        var data = await EventData.LoadAsync(db, events.Values, ct);

        var messages = new List<WebhookMessage>(claimed.Count);
        var keys = new Dictionary<int, byte[][]>();
        foreach (var c in claimed)
        {
            if (!events.TryGetValue(c.EventId, out var e) || !hooks.TryGetValue(c.WebhookId, out var hook))
                continue; // pruned under it: nothing left to send, and the prune removes the delivery too
            if (!keys.TryGetValue(hook.Id, out var hookKeys))
                keys[hook.Id] = hookKeys = Keys(hook, now);
            messages.Add(new(c, hook.Name, hook.Url, EventId(e.Id), Body(e.Type, e.At, data[e.Id]), hookKeys));
        }
        return messages;
    }

    /// <summary>The body of Standard Webhooks: <c>{"type", "timestamp", "data"}</c>, the time in UTC.</summary>
    public static string Body(string type, DateTimeOffset at, string? data)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            w.WriteString("timestamp", at.UtcDateTime);
            w.WritePropertyName("data");
            if (data is null)
                w.WriteNullValue();
            else
                w.WriteRawValue(data, skipInputValidation: true);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The current key, and while a secret rotates the one before it, so receivers on either verify.</summary>
    /// <remarks>
    /// A secret that cannot be decrypted (a lost key ring) gives no keys: the delivery is then
    /// not sent but settled as a failed attempt, so it is retried and shown, not stuck.
    /// </remarks>
    private byte[][] Keys(Webhook hook, DateTimeOffset now)
    {
        try
        {
            if (WebhookSecrets.Key(secrets.Reveal(hook.Secret)) is not { } current)
                return [];
            if (hook.PreviousSecret is { } previous && hook.PreviousUntil > now && WebhookSecrets.Key(secrets.Reveal(previous)) is { } old)
                return [current, old];
            return [current];
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return [];
        }
    }
}
