using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.EntityFrameworkCore;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using Patron.Channels;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Levels;

/// <summary>Who may call Level/Set, and its success answer in every response format.</summary>
public abstract class LevelSetAccessTests(Backend backend) : PatronTest(backend)
{
    private const string LevelSetScope = Scopes.LevelSet;

    private const string ScopedKey = "pk_level_setter_1";
    private const string UnscopedKey = "pk_everything_else_1";
    private static readonly XNamespace ResultNs = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer";
    private const string SetTo64 = """{"OnlyUpTo":"0","LevelId":64,"MemberList":[21,22]}""";

    // One channel holding only the scope, one holding every other scope there is.
    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        var channels = catalog["channels"]!.AsArray();
        channels.Add(Channel("level-setter", ScopedKey, [LevelSetScope]));
        channels.Add(Channel("everything-else", UnscopedKey, [.. Scopes.All.Where(s => s != LevelSetScope)]));
        return catalog;
    }

    private static JsonObject Channel(string name, string apiKey, string[] scopes) => new()
    {
        ["name"] = name, ["apiKey"] = apiKey, ["desKey"] = TestCatalog.DesKey, ["cipher"] = "des-ecb",
        ["scopes"] = new JsonArray([.. scopes.Select(s => (JsonNode)s)]),
    };

    private Task<(byte, byte, int)> StateAsync() => App.QueryAsync(async db => (
        await db.Members.Where(m => m.Id == 21).Select(m => m.LevelId).SingleAsync(),
        await db.Members.Where(m => m.Id == 22).Select(m => m.LevelId).SingleAsync(),
        await db.MemberLogs.CountAsync()));

    private async Task<(HttpResponseMessage Response, byte[] Body)> SendAsync(string? authorization, HttpContent content, string accept = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PointsWireClient.LevelSet) { Content = content };
        if (authorization is not null)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        request.Headers.Accept.ParseAdd(accept);
        var response = await App.CreateClient().SendAsync(request);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer pk_no_such_key")]
    [InlineData("Bearer ")]
    [InlineData("Basic " + TestCatalog.ApiKey)]
    [InlineData(TestCatalog.ApiKey)]
    public async Task WithoutAKnownKeyNothingIsSet(string? authorization)
    {
        var (response, body) = await SendAsync(authorization, Json(SetTo64));
        var json = JsonNode.Parse(body)!;

        Assert.Equal((HttpStatusCode.Unauthorized, 1001), (response.StatusCode, json["errcode"]!.GetValue<int>()));
        Assert.False(string.IsNullOrWhiteSpace(json["errmsg"]!.GetValue<string>()));
        Assert.Equal(((byte)1, (byte)1, 0), await StateAsync());
    }

    [Fact]
    public async Task AChannelWithEveryScopeButLevelSetsIsRefused()
    {
        var (response, body) = await SendAsync("Bearer " + UnscopedKey, Json(SetTo64));
        var json = JsonNode.Parse(body)!;

        Assert.Equal((HttpStatusCode.Forbidden, 1005), (response.StatusCode, json["errcode"]!.GetValue<int>()));
        Assert.Contains(LevelSetScope, json["errmsg"]!.GetValue<string>());
        Assert.Equal(((byte)1, (byte)1, 0), await StateAsync());
    }

    [Fact]
    public async Task TheConsolesScopeEditorGrantsLevelSet()
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);

        var page = await session.Http.GetStringAsync("/console/channels");
        using var granted = await session.Http.PostAsync("/console/channels?handler=Scopes&name=everything-else", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["scopes"] = LevelSetScope, ["__RequestVerificationToken"] = await session.FormTokenAsync("/console/channels") }));
        var (response, body) = await SendAsync("Bearer " + UnscopedKey, Json(SetTo64));

        Assert.Contains($"value=\"{LevelSetScope}\"", page);
        Assert.True(granted.StatusCode is HttpStatusCode.OK or HttpStatusCode.Redirect, $"{granted.StatusCode}");
        Assert.Equal((HttpStatusCode.OK, 0), (response.StatusCode, JsonNode.Parse(body)!["errcode"]!.GetValue<int>()));
        Assert.Equal(((byte)64, (byte)64, 2), await StateAsync());
    }

    [Fact]
    public async Task AChannelWithOnlyTheScopeSetsLevels()
    {
        var (response, body) = await SendAsync("Bearer " + ScopedKey, Json(SetTo64));

        Assert.Equal((HttpStatusCode.OK, 0), (response.StatusCode, JsonNode.Parse(body)!["errcode"]!.GetValue<int>()));
        Assert.Equal(((byte)64, (byte)64, 2), await StateAsync());
    }

    [Fact]
    public async Task AnXmlSuccessIsAPlainCommonOperationResultWithAStringTag()
    {
        var xml = $"""
            <MemberLevelSetParm xmlns="{Hostile.ParmNs}">
              <LevelId>64</LevelId>
              <MemberList xmlns:d2p1="http://schemas.microsoft.com/2003/10/Serialization/Arrays"><d2p1:long>21</d2p1:long><d2p1:long>22</d2p1:long></MemberList>
              <OnlyUpTo>0</OnlyUpTo>
            </MemberLevelSetParm>
            """;
        var (response, body) = await SendAsync("Bearer " + ScopedKey, new StringContent(xml, Encoding.UTF8, "text/xml"), "application/xml");

        Assert.Equal((HttpStatusCode.OK, "application/xml"), (response.StatusCode, response.Content.Headers.ContentType!.MediaType));
        var root = XDocument.Parse(Encoding.UTF8.GetString(body)).Root!;
        Assert.Equal(ResultNs + "CommonOperationResult", root.Name);
        Assert.Equal(["errcode", "errmsg", "tag"], root.Elements().Select(e => e.Name.LocalName));
        Assert.All(root.Elements(), e => Assert.Equal(ResultNs, e.Name.Namespace));
        Assert.Equal("0", root.Element(ResultNs + "errcode")!.Value);
        var tag = root.Element(ResultNs + "tag")!;
        Assert.Empty(tag.Elements());
        Assert.False(string.IsNullOrWhiteSpace(tag.Value));
        Assert.Equal(((byte)64, (byte)64, 2), await StateAsync());
    }

    [Fact]
    public async Task ABsonSuccessCarriesTheEnvelopeWithAStringTag()
    {
        var document = new BsonDocument { { "OnlyUpTo", "1" }, { "LevelId", 64 }, { "MemberList", new BsonArray { 21L, 22L } } };
        var content = new ByteArrayContent(document.ToBson());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/bson");
        var (response, body) = await SendAsync("Bearer " + ScopedKey, content, "application/bson");

        Assert.Equal((HttpStatusCode.OK, "application/bson"), (response.StatusCode, response.Content.Headers.ContentType!.MediaType));
        var answer = BsonSerializer.Deserialize<BsonDocument>(body);
        Assert.Equal(["errcode", "errmsg", "tag"], answer.Names);
        Assert.Equal(0, answer["errcode"].AsInt32);
        Assert.False(string.IsNullOrWhiteSpace(answer["errmsg"].AsString));
        Assert.False(string.IsNullOrWhiteSpace(answer["tag"].AsString));
        Assert.Equal(((byte)64, (byte)64, 2), await StateAsync());
    }
}

public sealed class LevelSetAccessTestsOnSqlite() : LevelSetAccessTests(Backend.Sqlite);

public sealed class LevelSetAccessTestsOnPostgres() : LevelSetAccessTests(Backend.Postgres);
