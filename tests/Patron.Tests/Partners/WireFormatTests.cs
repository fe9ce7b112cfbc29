using System.Net;
using System.Net.Http.Headers;
using System.Xml.Linq;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Partners;

public abstract class WireFormatTests(Backend backend) : PatronTest(backend)
{
    private const string ParmNs = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Parm.Member";
    private static readonly XNamespace ResultNs = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer";
    private static readonly XNamespace TagNs = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Result.Member";

    private async Task<(HttpResponseMessage Response, byte[] Body)> PostAsync(string path, HttpContent content, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Accept.ParseAdd(accept);
        var response = await Partner.SendAsync(request);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    private static StringContent Xml(string xml, string type = "application/xml") =>
        new(xml, System.Text.Encoding.UTF8, type);

    [Fact]
    public async Task AnXmlRequestGetsAnXmlAnswerWithTheSeedsNamesAndNamespaces()
    {
        // Elements deliberately out of DataContract order: the reader must not depend on it.
        var xml = $"""
            <MemberValuePointAddParm xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="{ParmNs}">
              <MemberId>11</MemberId>
              <ChangeValue>4</ChangeValue>
              <BusiType>P</BusiType>
              <BusiBillNum>sample 3</BusiBillNum>
            </MemberValuePointAddParm>
            """;
        var (response, body) = await PostAsync(PointsWireClient.PointAdd, Xml(xml, "text/xml"), "application/xml");

        Assert.Equal("application/xml", response.Content.Headers.ContentType!.MediaType);
        var root = XDocument.Parse(System.Text.Encoding.UTF8.GetString(body)).Root!;
        Assert.Equal(ResultNs + "CommonOperationResultWithTagOfMemberValuePointAddResultZ8ov0R4d", root.Name);
        Assert.Equal("0", root.Element(ResultNs + "errcode")!.Value);
        var tag = root.Element(ResultNs + "tag")!;
        Assert.Equal(
            ["AutoId", "MemberId", "MemberLevelIdAfter", "MemberLevelIdBefore", "ValuePointAfter", "ValuePointBefore"],
            tag.Elements().Select(e => e.Name.LocalName));
        Assert.All(tag.Elements(), e => Assert.Equal(TagNs, e.Name.Namespace));
        Assert.Equal(("11", "4", "0"), (tag.Element(TagNs + "MemberId")!.Value, tag.Element(TagNs + "ValuePointAfter")!.Value, tag.Element(TagNs + "ValuePointBefore")!.Value));
    }

    [Fact]
    public async Task AnXmlErrorKeepsTheEnvelopeWithANilTag()
    {
        var xml = $"<MemberValuePointAddParm xmlns=\"{ParmNs}\"><BusiBillNum>x</BusiBillNum><BusiType>P</BusiType><ChangeValue>4</ChangeValue><MemberId>4242</MemberId></MemberValuePointAddParm>";
        var (_, body) = await PostAsync(PointsWireClient.PointAdd, Xml(xml), "text/xml");

        var root = XDocument.Parse(System.Text.Encoding.UTF8.GetString(body)).Root!;
        Assert.Equal("2001", root.Element(ResultNs + "errcode")!.Value);
        Assert.Equal("true", root.Element(ResultNs + "tag")!.Attribute(XNamespace.Get("http://www.w3.org/2001/XMLSchema-instance") + "nil")!.Value);
    }

    [Theory]
    [InlineData("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><MemberValuePointAddParm xmlns=\"" + ParmNs + "\"><BusiBillNum>&x;</BusiBillNum><BusiType>P</BusiType><ChangeValue>1</ChangeValue><MemberId>1</MemberId></MemberValuePointAddParm>")]
    [InlineData("<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><MemberValuePointAddParm xmlns=\"" + ParmNs + "\"><BusiBillNum>&c;</BusiBillNum><BusiType>P</BusiType><ChangeValue>1</ChangeValue><MemberId>1</MemberId></MemberValuePointAddParm>")]
    [InlineData("<MemberValuePointAddParm xmlns=\"" + ParmNs + "\"><MemberId>1</MemberId>")]
    [InlineData("<Other xmlns=\"" + ParmNs + "\"><MemberId>1</MemberId></Other>")]
    [InlineData("not xml at all")]
    public async Task XmlWithADtdAnEntityOrBrokenSyntaxIsRefusedAndNothingIsResolved(string xml)
    {
        var (response, body) = await PostAsync(PointsWireClient.PointAdd, Xml(xml), "application/json");
        var text = System.Text.Encoding.UTF8.GetString(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"errcode\":1004", text);
        Assert.DoesNotContain("root:", text);
        Assert.Equal(0, await LedgerCountAsync());
    }

    [Fact]
    public async Task AFormRequestIsAccepted()
    {
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["MemberId"] = "12", ["BusiType"] = "R", ["BusiBillNum"] = "租赁-1", ["ChangeValue"] = "17",
        });
        var (response, body) = await PostAsync(PointsWireClient.PointAdd, form, "application/json");
        var envelope = System.Text.Json.Nodes.JsonNode.Parse(body)!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((0, 17L), (envelope["errcode"]!.GetValue<int>(), envelope["tag"]!["ValuePointAfter"]!.GetValue<long>()));
    }

    [Fact]
    public async Task ABsonRequestGetsABsonAnswer()
    {
        var document = new BsonDocument { { "MemberId", 13L }, { "BusiType", "C" }, { "BusiBillNum", "充值-9" }, { "ChangeValue", 70 } };
        var content = new ByteArrayContent(document.ToBson());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/bson");
        var (response, body) = await PostAsync(PointsWireClient.PointAdd, content, "application/bson");

        Assert.Equal("application/bson", response.Content.Headers.ContentType!.MediaType);
        var answer = BsonSerializer.Deserialize<BsonDocument>(body);
        Assert.Equal(0, answer["errcode"].AsInt32);
        Assert.Equal(70L, answer["tag"]["ValuePointAfter"].ToInt64());
        Assert.Equal(13L, answer["tag"]["MemberId"].ToInt64());
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3 })]
    [InlineData(new byte[] { 0x20, 0, 0, 0, 0x10, (byte)'M', 0, 1, 0, 0, 0 })]
    [InlineData(new byte[] { 5, 0, 0, 0, 0, 9, 9 })]
    public async Task MalformedBsonIsInvalid(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/bson");
        var (response, body) = await PostAsync(PointsWireClient.PointAdd, content, "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"errcode\":1004", System.Text.Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task AMalformedFormIsInvalid()
    {
        var (response, body) = await PostAsync(PointsWireClient.PointAdd,
            new StringContent("MemberId=1&MemberId=2&BusiType=P&BusiBillNum=x&ChangeValue=%ZZ", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
            "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"errcode\":1004", System.Text.Encoding.UTF8.GetString(body));
    }
}

public sealed class WireFormatTestsOnSqlite() : WireFormatTests(Backend.Sqlite);

public sealed class WireFormatTestsOnPostgres() : WireFormatTests(Backend.Postgres);

/// <summary>The envelope writer against the seed's own published sample, byte for byte.</summary>
public sealed class SeedSampleTests
{
    private const string SeedXmlSample = """
        <CommonOperationResultWithTagOfMemberValuePointAddResultZ8ov0R4d xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer">
          <errcode>1</errcode>
          <errmsg>sample string 2</errmsg>
          <tag xmlns:d2p1="http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Result.Member">
            <d2p1:AutoId>2</d2p1:AutoId>
            <d2p1:MemberId>1</d2p1:MemberId>
            <d2p1:MemberLevelIdAfter>64</d2p1:MemberLevelIdAfter>
            <d2p1:MemberLevelIdBefore>64</d2p1:MemberLevelIdBefore>
            <d2p1:ValuePointAfter>4</d2p1:ValuePointAfter>
            <d2p1:ValuePointBefore>3</d2p1:ValuePointBefore>
          </tag>
        </CommonOperationResultWithTagOfMemberValuePointAddResultZ8ov0R4d>
        """;

    private const string SeedJsonSample = """{"errcode":1,"errmsg":"sample string 2","tag":{"MemberId":1,"AutoId":2,"ValuePointBefore":3,"ValuePointAfter":4,"MemberLevelIdBefore":64,"MemberLevelIdAfter":64}}""";

    private static readonly PointAddTag SampleTag = new(MemberId: 1, AutoId: 2, ValuePointBefore: 3, ValuePointAfter: 4, MemberLevelIdBefore: 64, MemberLevelIdAfter: 64);

    [Fact]
    public void TheXmlEnvelopeReproducesTheSeedSampleExactly()
    {
        var xml = System.Text.Encoding.UTF8.GetString(PointsEnvelope.Sample(1, "sample string 2", SampleTag).ToXml());

        Assert.Equal(SeedXmlSample.ReplaceLineEndings("\n"), xml);
    }

    [Fact]
    public void TheJsonEnvelopeReproducesTheSeedSampleExactly()
    {
        var json = System.Text.Encoding.UTF8.GetString(PointsEnvelope.Sample(1, "sample string 2", SampleTag).ToJson());

        Assert.Equal(SeedJsonSample, json);
    }
}
