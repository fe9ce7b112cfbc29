using System.Security.Cryptography;
using System.Text;

namespace Patron.Compat;

/// <summary>
/// The open API's <c>param</c> encryption (SPEC §4).
/// <list type="bullet">
/// <item><c>des-ecb</c>, the seed's: DES, ECB, PKCS#7; key = the first 8 bytes of the key string (UTF-8);
/// upper-case hex out, either case in.</item>
/// <item><c>aes-gcm</c>, for new partners: AES-256-GCM; key = SHA-256 of the key string (UTF-8); a fresh
/// 12-byte nonce per message; hex of nonce ‖ ciphertext ‖ 16-byte tag; the envelope's
/// <c>channel + "\n" + timestamp</c> (UTF-8) is authenticated as associated data, so neither can be altered.</item>
/// </list>
/// </summary>
public static class OpenApiCipher
{
    public const string Des = "des-ecb";
    public const string AesGcm = "aes-gcm";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string Encrypt(string cipher, string key, string plaintext, string channel, string timestamp) => cipher switch
    {
        AesGcm => EncryptAesGcm(key, plaintext, channel, timestamp, RandomNumberGenerator.GetBytes(12)),
        _ => EncryptDes(key, plaintext),
    };

    /// <summary>The plaintext, or null when the hex, the padding, the tag or the UTF-8 is wrong.</summary>
    public static string? Decrypt(string cipher, string key, string hex, string channel, string timestamp)
    {
        try
        {
            var bytes = Convert.FromHexString(hex);
            var plain = cipher == AesGcm ? DecryptAesGcm(key, bytes, channel, timestamp) : DecryptDes(key, bytes);
            return plain is null ? null : StrictUtf8.GetString(plain);
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    public static string EncryptDes(string key, string plaintext)
    {
        using var des = NewDes(key);
        return Convert.ToHexString(des.EncryptEcb(Encoding.UTF8.GetBytes(plaintext), PaddingMode.PKCS7));
    }

    private static byte[]? DecryptDes(string key, byte[] bytes)
    {
        if (bytes.Length == 0 || bytes.Length % 8 != 0)
            return null;
        using var des = NewDes(key);
        return des.DecryptEcb(bytes, PaddingMode.PKCS7);
    }

    private static DES NewDes(string key)
    {
        var des = DES.Create();
        des.Key = Encoding.UTF8.GetBytes(key)[..8];
        return des;
    }

    public static string EncryptAesGcm(string key, string plaintext, string channel, string timestamp, byte[] nonce)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[12 + plain.Length + 16];
        nonce.CopyTo(output, 0);
        using var aes = new System.Security.Cryptography.AesGcm(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 16);
        aes.Encrypt(nonce, plain, output.AsSpan(12, plain.Length), output.AsSpan(12 + plain.Length), AssociatedData(channel, timestamp));
        return Convert.ToHexString(output);
    }

    private static byte[]? DecryptAesGcm(string key, byte[] bytes, string channel, string timestamp)
    {
        if (bytes.Length < 12 + 16)
            return null;
        var plain = new byte[bytes.Length - 28];
        using var aes = new System.Security.Cryptography.AesGcm(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 16);
        aes.Decrypt(bytes.AsSpan(0, 12), bytes.AsSpan(12, plain.Length), bytes.AsSpan(bytes.Length - 16), plain, AssociatedData(channel, timestamp));
        return plain;
    }

    private static byte[] AssociatedData(string channel, string timestamp) => Encoding.UTF8.GetBytes(channel + "\n" + timestamp);
}
