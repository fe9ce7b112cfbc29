using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Patron.Events.Webhooks;

/// <summary>
/// Signing secrets, as Standard Webhooks writes them: <c>whsec_</c> and the base64 of the key.
/// They sign every delivery, so they are kept in clear nowhere: stored encrypted with the same
/// Data Protection key ring as the channels' keys, and never logged.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    public const string Prefix = "whsec_";

    /// <summary>Standard Webhooks asks for 24 to 64 bytes of key.</summary>
    public const int MinBytes = 24, MaxBytes = 64;

    private const string StoredPrefix = "dp1:";

    private readonly IDataProtector _protector = provider.CreateProtector("Patron.Webhooks.Secret");

    /// <summary>A new secret of 32 random bytes, to be shown to the operator once.</summary>
    public static string New() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The key of a secret in its written form; null when it is not one.</summary>
    public static byte[]? Key(string? secret)
    {
        if (secret is null || !secret.StartsWith(Prefix, StringComparison.Ordinal))
            return null;
        var key = new byte[MaxBytes + 3];
        return Convert.TryFromBase64String(secret[Prefix.Length..], key, out var length) && length is >= MinBytes and <= MaxBytes
            ? key[..length]
            : null;
    }

    public string Protect(string secret) => StoredPrefix + _protector.Protect(secret);

    public string Reveal(string stored) =>
        stored.StartsWith(StoredPrefix, StringComparison.Ordinal) ? _protector.Unprotect(stored[StoredPrefix.Length..]) : stored;
}
