using System.Net;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Partners;

public abstract class OpenApiEnvelopeTests(Backend backend) : PatronTest(backend)
{
    private OpenApiClient OpenApi => new(App.CreateClient());
    private const string Query = """{"memberId":"M0001"}""";

    private async Task<OpenApiAnswer> Expect(int code, Task<OpenApiAnswer> call)
    {
        var answer = await call;
        Assert.Equal((HttpStatusCode.OK, code), (answer.Status, answer.Code));
        Assert.False(string.IsNullOrWhiteSpace(answer.Msg));
        Assert.Null(answer.Data);
        return answer;
    }

    private object Envelope(string param, string channel = "hkl-test", object? timestamp = null) =>
        new { channel, timestamp = timestamp ?? OpenApi.Now().ToString(), param };

    [Fact]
    public async Task AnUnknownChannelIs1001() =>
        await Expect(1001, new OpenApiClient(App.CreateClient()) { Channel = "nobody" }.CallAsync("queryMncardByMember", Query));

    [Theory]
    // A minute past the 300 s window each way, so that a slow first request cannot drift back inside it.
    [InlineData(-360)]
    [InlineData(360)]
    public async Task ATimestampOutsideTheWindowIs1002(int seconds) =>
        await Expect(1002, OpenApi.CallAsync("queryMncardByMember", Query, OpenApi.Now() + seconds * 1000L));

    [Fact]
    public async Task ATimestampInsideTheWindowIsAccepted() =>
        Assert.Equal(0, (await OpenApi.CallAsync("queryMncardByMember", Query, OpenApi.Now() - 240_000)).Code);

    [Theory]
    [InlineData("XYZ")]
    [InlineData("8E27DBAFCD73890")]
    [InlineData("")]
    [InlineData("8E27DBAFCD73890F00")]
    public async Task BadHexOrALengthThatIsNoBlockIs1003(string param) =>
        await Expect(param.Length == 0 ? 1004 : 1003, OpenApi.SendAsync("queryMncardByMember", Envelope(param)));

    [Fact]
    public async Task AWrongKeyIs1003() =>
        await Expect(1003, new OpenApiClient(App.CreateClient()) { Key = "wrongkey" }.CallAsync("queryMncardByMember", Query));

    [Fact]
    public async Task BadPaddingIs1003()
    {
        // A valid block whose last byte is no PKCS#7 padding: encrypt 8 bytes without padding.
        using var des = System.Security.Cryptography.DES.Create();
        des.Key = "k3y-8byt"u8.ToArray();
        var hex = Convert.ToHexString(des.EncryptEcb("{\"a\":10}"u8.ToArray(), System.Security.Cryptography.PaddingMode.None));

        await Expect(1003, OpenApi.SendAsync("queryMncardByMember", Envelope(hex)));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    public async Task PlaintextThatIsNoJsonObjectIs1003(string plaintext) =>
        await Expect(1003, OpenApi.CallAsync("queryMncardByMember", plaintext));

    [Fact]
    public async Task LowerCaseHexIsAccepted()
    {
        var ts = OpenApi.Now().ToString();
        var answer = await OpenApi.SendAsync("queryMncardByMember", Envelope(OpenApiCipher.EncryptDes(TestCatalog.DesKey, Query).ToLowerInvariant(), timestamp: ts));

        Assert.Equal(0, answer.Code);
    }

    [Theory]
    [InlineData("""{"memberId":{"x":1}}""")]
    [InlineData("""{"member":"M0001"}""")]
    public async Task AMissingOrMistypedFieldIs1004NamingIt(string plaintext)
    {
        var answer = await Expect(1004, OpenApi.CallAsync("queryMncardByMember", plaintext));

        Assert.StartsWith("memberId", answer.Msg);
    }

    [Fact]
    public async Task AnUnknownMethodIs1004() =>
        await Expect(1004, OpenApi.CallAsync("dropAllTables", Query));

    [Fact]
    public async Task AnUnknownMethodFromAnUnknownChannelIs1001() =>
        await Expect(1001, new OpenApiClient(App.CreateClient()) { Channel = "nobody" }.CallAsync("dropAllTables", Query));

    [Fact]
    public async Task AnEnvelopeThatDoesNotDecryptIs1003EvenForAMethodOutsideItsScopes() =>
        await Expect(1003, new OpenApiClient(App.CreateClient()) { Channel = "other", Key = "wrongkey" }.CallAsync("queryMncardByMember", Query));

    [Fact]
    public async Task AMethodOutsideTheChannelsScopesIs1005() =>
        await Expect(1005, new OpenApiClient(App.CreateClient()) { Channel = "other" }.CallAsync("queryMncardByMember", Query));

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"channel":"hkl-test","param":"00"}""")]
    [InlineData("""{"channel":"hkl-test","timestamp":"soon","param":"00"}""")]
    [InlineData("""{"channel":["hkl-test"],"timestamp":"1","param":"00"}""")]
    [InlineData("[]")]
    public async Task AMalformedEnvelopeIs1004(string body) =>
        await Expect(1004, OpenApi.SendRawAsync("queryMncardByMember", body));

    [Fact]
    public async Task ANumericTimestampIsAcceptedAsTheSeedsStringIs()
    {
        var now = OpenApi.Now();
        var param = OpenApiCipher.EncryptDes(TestCatalog.DesKey, Query);

        var answer = await OpenApi.SendAsync("queryMncardByMember", new { channel = "hkl-test", timestamp = now, param });

        Assert.Equal(0, answer.Code);
    }

    [Fact]
    public async Task TheSeedsPrefixServesTheSameApi()
    {
        var answer = await new OpenApiClient(App.CreateClient()) { Prefix = "/htest" }.CallAsync("queryMncardByMember", Query);

        Assert.Equal(0, answer.Code);
    }

    [Fact]
    public async Task AnAesGcmEnvelopeWhoseTimestampWasAlteredIs1003()
    {
        var aes = new OpenApiClient(App.CreateClient()) { Channel = "aes-partner", Key = TestCatalog.AesKey, Cipher = OpenApiCipher.AesGcm };
        var sent = aes.Now().ToString();
        var param = OpenApiCipher.Encrypt(OpenApiCipher.AesGcm, TestCatalog.AesKey, Query, "aes-partner", sent);

        var honest = await aes.SendAsync("queryMncardByMember", new { channel = "aes-partner", timestamp = sent, param });
        var altered = await aes.SendAsync("queryMncardByMember", new { channel = "aes-partner", timestamp = (long.Parse(sent) + 1).ToString(), param });

        Assert.Equal((0, 1003), (honest.Code, altered.Code));
    }
}

public sealed class OpenApiEnvelopeTestsOnSqlite() : OpenApiEnvelopeTests(Backend.Sqlite);

public sealed class OpenApiEnvelopeTestsOnPostgres() : OpenApiEnvelopeTests(Backend.Postgres);
