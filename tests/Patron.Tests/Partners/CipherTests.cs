using System.Text.Json.Nodes;
using Patron.Compat;

namespace Patron.Tests.Partners;

/// <summary>The envelope ciphers against vectors computed outside Patron (OpenSSL), both ways.</summary>
public sealed class CipherTests
{
    public static TheoryData<string, string, string> DesVectors()
    {
        var data = new TheoryData<string, string, string>();
        var vectors = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "vectors", "des-ecb.json")))!;
        foreach (var v in vectors["cases"]!.AsArray())
            data.Add(v!["key"]!.GetValue<string>(), v["plaintext"]!.GetValue<string>(), v["hex"]!.GetValue<string>());
        return data;
    }

    [Theory]
    [MemberData(nameof(DesVectors))]
    public void DesEncryptsEachVectorToItsHex(string key, string plaintext, string hex) =>
        Assert.Equal(hex, OpenApiCipher.EncryptDes(key, plaintext));

    [Theory]
    [MemberData(nameof(DesVectors))]
    public void DesDecryptsEachVectorInEitherCase(string key, string plaintext, string hex)
    {
        Assert.Equal(plaintext, OpenApiCipher.Decrypt(OpenApiCipher.Des, key, hex, "any", "0"));
        Assert.Equal(plaintext, OpenApiCipher.Decrypt(OpenApiCipher.Des, key, hex.ToLowerInvariant(), "any", "0"));
    }

    [Fact]
    public void TheVectorsFileIsComplete() => Assert.Equal(6, DesVectors().Count);

    // The README's AES-GCM example, computed independently with Node's crypto (OpenSSL), so a partner can check theirs.
    private const string AesKey = "an-aes-key-of-any-length";
    private const string AesPlain = """{"memberId":"L38E1ASJP00Q4"}""";
    private const string AesNonce = "000102030405060708090A0B";
    private const string AesHex = "000102030405060708090A0B004375E11F24BE92A4DB305D59F6A44B25B2726FB78EFBAE8257C288C26F5EDAEEF2DAD5F4BF2DAD93507E46";

    [Fact]
    public void AesGcmMatchesTheReadmesVector() =>
        Assert.Equal(AesHex, OpenApiCipher.EncryptAesGcm(AesKey, AesPlain, "aes-partner", "1700000000000", Convert.FromHexString(AesNonce)));

    [Fact]
    public void AesGcmRoundTripsAndRefusesAnyAlteration()
    {
        var hex = OpenApiCipher.Encrypt(OpenApiCipher.AesGcm, AesKey, AesPlain, "aes-partner", "1700000000000");
        var flipped = hex[..30] + (hex[30] == '0' ? '1' : '0') + hex[31..];

        Assert.Equal(AesPlain, OpenApiCipher.Decrypt(OpenApiCipher.AesGcm, AesKey, hex, "aes-partner", "1700000000000"));
        Assert.Null(OpenApiCipher.Decrypt(OpenApiCipher.AesGcm, AesKey, flipped, "aes-partner", "1700000000000"));
        Assert.Null(OpenApiCipher.Decrypt(OpenApiCipher.AesGcm, AesKey, hex, "other", "1700000000000"));
        Assert.Null(OpenApiCipher.Decrypt(OpenApiCipher.AesGcm, "another-key", hex, "aes-partner", "1700000000000"));
    }

    [Theory]
    [InlineData("zz")]
    [InlineData("ABC")]
    [InlineData("00")]
    public void GarbageNeverThrows(string hex)
    {
        Assert.Null(OpenApiCipher.Decrypt(OpenApiCipher.Des, "k3y-8byt", hex, "c", "0"));
        Assert.Null(OpenApiCipher.Decrypt(OpenApiCipher.AesGcm, "k3y-8byt", hex, "c", "0"));
    }
}
