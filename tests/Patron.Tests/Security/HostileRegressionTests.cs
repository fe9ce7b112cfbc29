using System.Diagnostics;
using System.Net;
using System.Text;
using System.Xml.Linq;
using Microsoft.EntityFrameworkCore;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Security;

/// <summary>What the hostile-input fuzzers found, one fixed case each.</summary>
public abstract partial class HostileRegressionTests(Backend backend) : PatronTest(backend)
{
    private OpenApiClient OpenApi => new(App.CreateClient());

    private async Task<(HttpResponseMessage Response, byte[] Body)> PostAsync(string body, string contentType, string accept = "application/json") =>
        await PostAsync(Encoding.UTF8.GetBytes(body), contentType, accept);

    private async Task<(HttpResponseMessage Response, byte[] Body)> PostAsync(byte[] body, string contentType, string accept = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PointsWireClient.PointAdd) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        var response = await Partner.SendAsync(request);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("""{"MemberId":1,"BusiType":"P","BusiBillNum":"x","ChangeValue":5,"changevalue":5}""")]
    [InlineData("""{"MemberId":1,"MemberId":1,"BusiType":"P","BusiBillNum":"x","ChangeValue":5}""")]
    [InlineData("""{"MemberId":1,"BusiType":"P","BusiBillNum":"\uD800","ChangeValue":5}""")]
    public async Task AmbiguousOrUndecodableJsonIs1004NotA500(string body)
    {
        var answer = await Partner.PostRawAsync(PointsWireClient.PointAdd, body, "application/json");

        Assert.Equal((HttpStatusCode.BadRequest, 1004), (answer.Status, answer.Errcode));
        Assert.Equal(0, await LedgerCountAsync());
    }

    [Fact]
    public async Task JsonThatIsNotUtf8Is1004()
    {
        var (response, _) = await PostAsync([.. "{\"MemberId\":1,\"BusiType\":\""u8, 0xC3, .. "\",\"BusiBillNum\":\"x\",\"ChangeValue\":5}"u8], "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("application/xml")]
    [InlineData("application/bson")]
    [InlineData("application/json")]
    public async Task AnErrorMessageEchoingControlCharactersOrLoneSurrogatesIsWrittenInEveryFormat(string accept)
    {
        var (response, body) = await PostAsync("MemberId=1&BusiType=%01%00&BusiBillNum=x&ChangeValue=5", "application/x-www-form-urlencoded", accept);
        var (lone, loneBody) = await PostAsync("""{"MemberId":1,"BusiType":"a\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42","BusiBillNum":"x","ChangeValue":5}""", "application/json", accept);

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (response.StatusCode, lone.StatusCode));
        foreach (var bytes in new[] { body, loneBody })
        {
            var errcode = accept switch
            {
                "application/xml" => XDocument.Parse(Encoding.UTF8.GetString(bytes)).Root!.Elements().First(e => e.Name.LocalName == "errcode").Value,
                "application/bson" => BsonSerializer.Deserialize<BsonDocument>(bytes)["errcode"].ToString(),
                _ => System.Text.Json.Nodes.JsonNode.Parse(bytes)!["errcode"]!.ToString(),
            };
            Assert.Equal("1004", errcode);
        }
    }

    [Fact]
    public async Task ABsonStringLengthPastTheBodyIsRefusedAtOnce()
    {
        // {"MemberId": "<a string claiming 2 GB>"}: the reader used to allocate and read that much first.
        var body = new BsonDocument { { "MemberId", "12345678" } }.ToBson();
        BitConverter.TryWriteBytes(body.AsSpan(4 + 1 + "MemberId".Length + 1, 4), int.MaxValue - 16);
        var clock = Stopwatch.StartNew();

        var (response, _) = await PostAsync(body, "application/bson");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task BsonNestedThousandsDeepIs1004() =>
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(Hostile.NestedBson(7000), "application/bson")).Response.StatusCode);

    [Fact]
    public async Task DuplicateNamesInADecryptedParamAre1003()
    {
        var answer = await OpenApi.CallAsync("queryMncardByMember", """{"memberId":"M0001","MEMBERID":"M0002"}""");

        Assert.Equal(1003, answer.Code);
    }

    [Theory]
    [InlineData("cancelUseMncard", """{"useNo":"U\u0000"}""")]
    [InlineData("refundMncardForSale", """{"saleNo":"\u0000"}""")]
    [InlineData("queryMncardByMember", """{"memberId":"M0001\u0000"}""")]
    public async Task ANulCharacterInAParamFieldIs1004(string method, string plaintext)
    {
        var answer = await OpenApi.CallAsync(method, plaintext);

        Assert.Equal(1004, answer.Code);
    }

    [Fact]
    public async Task ANulCharacterInTheEnvelopesChannelIs1004() =>
        Assert.Equal(1004, (await OpenApi.SendRawAsync("queryMncardByMember", """{"channel":"hkl\u0000","timestamp":"1","param":"00"}""")).Code);

    [Fact]
    public async Task ANulCharacterInABillNumberIs1004AndWritesNothing()
    {
        var answer = await Partner.PostRawAsync(PointsWireClient.PointAdd, "MemberId=1&BusiType=P&BusiBillNum=B%00&ChangeValue=5", "application/x-www-form-urlencoded");

        Assert.Equal(1004, answer.Errcode);
        Assert.Equal(0, await LedgerCountAsync());
    }

    [Theory]
    [InlineData("10000000000000000.00")]
    [InlineData("79228162514264337593543950335")]
    public async Task APayAmtBeyondWhatTheDatabaseHoldsIs1004(string payAmt)
    {
        var answer = await OpenApi.SellAsync("S-BIG", payAmt: payAmt);

        Assert.Equal(1004, answer.Code);
        Assert.StartsWith("payAmt", answer.Msg);
        Assert.Equal(0, await App.QueryAsync(db => db.CardSales.CountAsync()));
    }

    [Fact]
    public async Task TheLargestPayAmtTheDatabaseHoldsSells() =>
        Assert.Equal(0, (await OpenApi.SellAsync("S-MAX", payAmt: "9999999999999999.99")).Code);
}

public sealed class HostileRegressionTestsOnSqlite() : HostileRegressionTests(Backend.Sqlite);

public sealed class HostileRegressionTestsOnPostgres() : HostileRegressionTests(Backend.Postgres);
