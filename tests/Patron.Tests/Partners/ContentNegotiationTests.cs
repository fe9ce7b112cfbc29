using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Partners;

/// <summary>
/// Point/Add and Level/Set choose the answer's format as ASP.NET Web API 2 did: by Accept when the
/// caller sends one, otherwise by the request's own Content-Type.
/// </summary>
public abstract class ContentNegotiationTests(Backend backend) : PatronTest(backend)
{
    private static readonly XNamespace ResultNs = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer";
    private static readonly XNamespace TagNs = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Result.Member";

    /// <summary>The XML sample of the seed's help page, as printed (its BusiType is not one character).</summary>
    private const string SeedXmlSample = """
        <MemberValuePointAddParm xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Parm.Member">
          <BusiBillNum>sample string 3</BusiBillNum>
          <BusiType>sample string 2</BusiType>
          <ChangeValue>4</ChangeValue>
          <MemberId>1</MemberId>
        </MemberValuePointAddParm>
        """;

    private static readonly string ValidSeedXml = SeedXmlSample.Replace("sample string 2", "P");

    private async Task<(HttpResponseMessage Response, byte[] Body)> PostAsync(string path, HttpContent content, string? accept = null,
        HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (accept is not null)
            request.Headers.Accept.ParseAdd(accept);
        var response = await (client ?? Partner).SendAsync(request);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    private static StringContent Text(string body, string mediaType) => new(body, Encoding.UTF8, mediaType);

    private static XElement Xml(byte[] body) => XDocument.Parse(Encoding.UTF8.GetString(body)).Root!;

    [Theory]
    [InlineData("text/xml")]
    [InlineData("application/xml")]
    public async Task TheSeedsXmlSampleWithoutAcceptIsAnsweredInXmlOfTheSameMediaType(string mediaType)
    {
        var (refused, refusedBody) = await PostAsync(PointsWireClient.PointAdd, Text(SeedXmlSample, mediaType));
        var (added, addedBody) = await PostAsync(PointsWireClient.PointAdd, Text(ValidSeedXml, mediaType));

        Assert.Equal((HttpStatusCode.BadRequest, mediaType), (refused.StatusCode, refused.Content.Headers.ContentType!.MediaType));
        Assert.Equal("1004", Xml(refusedBody).Element(ResultNs + "errcode")!.Value);
        Assert.Equal((HttpStatusCode.OK, mediaType), (added.StatusCode, added.Content.Headers.ContentType!.MediaType));
        var root = Xml(addedBody);
        Assert.Equal(ResultNs + "CommonOperationResultWithTagOfMemberValuePointAddResultZ8ov0R4d", root.Name);
        Assert.Equal(("0", "4"), (root.Element(ResultNs + "errcode")!.Value, root.Element(ResultNs + "tag")!.Element(TagNs + "ValuePointAfter")!.Value));
    }

    [Fact]
    public async Task BsonInIsBsonOut()
    {
        var document = new BsonDocument { { "MemberId", 2L }, { "BusiType", "C" }, { "BusiBillNum", "bson-1" }, { "ChangeValue", 70 } };
        var content = new ByteArrayContent(document.ToBson());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/bson");

        var (response, body) = await PostAsync(PointsWireClient.PointAdd, content);

        Assert.Equal("application/bson", response.Content.Headers.ContentType!.MediaType);
        var answer = BsonSerializer.Deserialize<BsonDocument>(body);
        Assert.Equal((0, 70L), (answer["errcode"].AsInt32, answer["tag"]["ValuePointAfter"].ToInt64()));
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "MemberId=3&BusiType=P&BusiBillNum=form-1&ChangeValue=5", "application/json")]
    [InlineData("application/json", """{"MemberId":3,"BusiType":"P","BusiBillNum":"json-1","ChangeValue":5}""", "application/json")]
    [InlineData("text/json", """{"MemberId":3,"BusiType":"P","BusiBillNum":"json-2","ChangeValue":5}""", "text/json")]
    public async Task FormOrJsonInIsJsonOut(string mediaType, string body, string answeredAs)
    {
        var (response, answer) = await PostAsync(PointsWireClient.PointAdd, Text(body, mediaType));

        Assert.Equal(answeredAs, response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(0, System.Text.Json.Nodes.JsonNode.Parse(answer)!["errcode"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnAcceptHeaderStillDecides()
    {
        var (json, _) = await PostAsync(PointsWireClient.PointAdd, Text(ValidSeedXml, "text/xml"), accept: "application/json");
        var (bson, _) = await PostAsync(PointsWireClient.PointAdd, Text("""{"MemberId":4,"BusiType":"P","BusiBillNum":"x","ChangeValue":1}""",
            "application/json"), accept: "application/bson");
        var (unknown, _) = await PostAsync(PointsWireClient.PointAdd, Text(ValidSeedXml.Replace("sample string 3", "other"), "text/xml"),
            accept: "text/html");

        Assert.Equal(["application/json", "application/bson", "application/json"],
            new[] { json, bson, unknown }.Select(r => r.Content.Headers.ContentType!.MediaType));
    }

    [Fact]
    public async Task ErrorsBeforeTheBodyIsReadFollowTheContentTypeToo()
    {
        var stranger = PartnerClient(App, "pk_nobody");
        var (badKey, badKeyBody) = await PostAsync(PointsWireClient.PointAdd, Text(ValidSeedXml, "text/xml"), client: stranger);
        var (malformed, malformedBody) = await PostAsync(PointsWireClient.PointAdd, Text("<MemberValuePointAddParm><unclosed>", "application/xml"));
        var bsonGarbage = new ByteArrayContent([1, 2, 3]);
        bsonGarbage.Headers.ContentType = new MediaTypeHeaderValue("application/bson");
        var (badBson, badBsonBody) = await PostAsync(PointsWireClient.PointAdd, bsonGarbage);

        Assert.Equal((HttpStatusCode.Unauthorized, "text/xml"), (badKey.StatusCode, badKey.Content.Headers.ContentType!.MediaType));
        Assert.Equal("1001", Xml(badKeyBody).Element(ResultNs + "errcode")!.Value);
        Assert.Equal((HttpStatusCode.BadRequest, "application/xml"), (malformed.StatusCode, malformed.Content.Headers.ContentType!.MediaType));
        Assert.Equal("1004", Xml(malformedBody).Element(ResultNs + "errcode")!.Value);
        Assert.Equal((HttpStatusCode.BadRequest, "application/bson"), (badBson.StatusCode, badBson.Content.Headers.ContentType!.MediaType));
        Assert.Equal(1004, BsonSerializer.Deserialize<BsonDocument>(badBsonBody)["errcode"].AsInt32);
        Assert.Equal(0, await LedgerCountAsync());
    }

    [Fact]
    public async Task LevelSetAnswersXmlInXml()
    {
        const string xml = """
            <MemberLevelSetParm xmlns="http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Parm.Member">
              <LevelId>64</LevelId>
              <MemberList xmlns:d2p1="http://schemas.microsoft.com/2003/10/Serialization/Arrays"><d2p1:long>5</d2p1:long></MemberList>
              <OnlyUpTo>1</OnlyUpTo>
            </MemberLevelSetParm>
            """;

        var (response, body) = await PostAsync(PointsWireClient.LevelSet, Text(xml, "text/xml"));

        Assert.Equal("text/xml", response.Content.Headers.ContentType!.MediaType);
        var root = Xml(body);
        Assert.Equal(ResultNs + "CommonOperationResult", root.Name);
        Assert.Equal("0", root.Element(ResultNs + "errcode")!.Value);
    }
}

public sealed class ContentNegotiationTestsOnSqlite() : ContentNegotiationTests(Backend.Sqlite);

public sealed class ContentNegotiationTestsOnPostgres() : ContentNegotiationTests(Backend.Postgres);
