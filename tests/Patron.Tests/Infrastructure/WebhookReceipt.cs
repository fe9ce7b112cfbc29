using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// One request the receiver process wrote down: the three Standard Webhooks headers, the body's
/// exact bytes, and what it answered (<c>204</c>, <c>500</c>, or <c>slow</c>: past the timeout).
/// </summary>
public sealed record WebhookReceipt(string Id, string Timestamp, string Signature, byte[] Body, string Answer, long ReceivedAt)
{
    /// <summary>Answered 2xx at once: a delivery, unless the sender was killed before it read the answer.</summary>
    public bool Accepted => Answer == "204";

    /// <summary>The event's number, from <c>webhook-id: evt_&lt;id&gt;</c>; 0 if it is not one.</summary>
    public long EventId => Id.StartsWith("evt_", StringComparison.Ordinal) && long.TryParse(Id.AsSpan(4), out var id) ? id : 0;

    public static IReadOnlyList<WebhookReceipt> Read(string path)
    {
        if (!File.Exists(path))
            return [];
        var receipts = new List<WebhookReceipt>();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
                continue;
            JsonElement json;
            try
            {
                json = JsonDocument.Parse(line).RootElement;
            }
            catch (JsonException)
            {
                continue; // the receiver was killed mid-line; the request was not answered
            }
            receipts.Add(new WebhookReceipt(json.GetProperty("Id").GetString()!, json.GetProperty("Timestamp").GetString()!,
                json.GetProperty("Signature").GetString()!, Convert.FromBase64String(json.GetProperty("Body").GetString()!),
                json.GetProperty("Answer").GetString()!, json.GetProperty("ReceivedAt").GetInt64()));
        }
        return receipts;
    }

    /// <summary>
    /// Standard Webhooks 1.0, checked independently of the service's code: some <c>v1,</c> signature in
    /// the space-separated header is the base64 HMAC-SHA256, keyed with the secret's base64 after
    /// <c>whsec_</c>, of <c>{id}.{timestamp}.{body}</c>.
    /// </summary>
    public bool SignatureVerifies(string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{Id}.{Timestamp}.").Concat(Body).ToArray();
        var expected = HMACSHA256.HashData(key, signed);
        foreach (var part in Signature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!part.StartsWith("v1,", StringComparison.Ordinal))
                continue;
            var given = new byte[64];
            if (Convert.TryFromBase64String(part[3..], given, out var length) && CryptographicOperations.FixedTimeEquals(given.AsSpan(0, length), expected))
                return true;
        }
        return false;
    }
}
