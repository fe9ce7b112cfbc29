using System.Security.Cryptography;
using System.Text;

namespace Patron.Events.Webhooks;

/// <summary>
/// Standard Webhooks 1.0 signatures: <c>v1,</c> and the base64 of HMAC-SHA256 over
/// <c>{id}.{timestamp}.{body}</c>, one per key, separated by spaces.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The <c>webhook-signature</c> header's value: one signature by each key, in the order given.</summary>
    public static string Sign(string id, long timestamp, string body, params byte[][] keys)
    {
        if (keys.Length == 0)
            throw new ArgumentException("at least one key", nameof(keys));
        var content = Content(id, timestamp, body);
        return string.Join(' ', keys.Select(key => "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content))));
    }

    /// <summary>
    /// Whether any <c>v1</c> signature in the header is the key's signature of this message,
    /// compared in constant time. The caller checks the timestamp's age itself.
    /// </summary>
    public static bool Verify(string id, long timestamp, string body, string header, byte[] key)
    {
        var expected = HMACSHA256.HashData(key, Content(id, timestamp, body));
        foreach (var part in header.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!part.StartsWith("v1,", StringComparison.Ordinal))
                continue;
            var given = new byte[expected.Length + 3];
            if (Convert.TryFromBase64String(part[3..], given, out var length) && length == expected.Length
                && CryptographicOperations.FixedTimeEquals(given.AsSpan(0, length), expected))
                return true;
        }
        return false;
    }

    private static byte[] Content(string id, long timestamp, string body) => Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}");
}
