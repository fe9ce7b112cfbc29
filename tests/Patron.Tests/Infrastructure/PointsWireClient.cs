using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Bson.Serialization;

namespace Patron.Tests.Infrastructure;

/// <summary>The points envelope as a partner reads it.</summary>
public sealed record Envelope(HttpStatusCode Status, int Errcode, string Errmsg, JsonNode? Tag)
{
    public long TagLong(string name) => Tag![name]!.GetValue<long>();

    /// <summary>
    /// The envelope in whichever format the answer came (without Accept, the request's own): JSON,
    /// the seed's DataContract XML, or BSON, read into one JSON shape.
    /// </summary>
    public static async Task<Envelope> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        var json = response.Content.Headers.ContentType?.MediaType switch
        {
            "application/xml" or "text/xml" => FromXml(body),
            "application/bson" => JsonNode.Parse(BsonSerializer.Deserialize<BsonDocument>(body)
                .ToJson(new JsonWriterSettings { OutputMode = JsonOutputMode.RelaxedExtendedJson })),
            _ => JsonNode.Parse(body),
        } ?? throw new InvalidOperationException("empty body");
        return new Envelope(response.StatusCode, json["errcode"]!.GetValue<int>(), json["errmsg"]!.GetValue<string>(), json["tag"]);
    }

    private static JsonObject FromXml(byte[] body)
    {
        var root = XDocument.Parse(System.Text.Encoding.UTF8.GetString(body)).Root!;
        string Child(string name) => root.Elements().Single(e => e.Name.LocalName == name).Value;
        var tag = root.Elements().Single(e => e.Name.LocalName == "tag");
        JsonNode? tagNode = tag.HasElements
            ? new JsonObject(tag.Elements().Select(e => KeyValuePair.Create(e.Name.LocalName, (JsonNode?)JsonValue.Create(long.Parse(e.Value)))))
            : tag.Attributes().Any(a => a.Name.LocalName == "nil") ? null : JsonValue.Create(tag.Value);
        return new JsonObject { ["errcode"] = int.Parse(Child("errcode")), ["errmsg"] = Child("errmsg"), ["tag"] = tagNode };
    }
}

public static class PointsWireClient
{
    public const string PointAdd = "/api/Setting/KH_GRHY/Point/Add";
    public const string LevelSet = "/api/Setting/KH_GRHY/Level/Set";

    public static async Task<Envelope> AddPointsAsync(this HttpClient client, long memberId, string busiType, long change,
        string bill = "B-1", string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PointAdd)
        {
            Content = JsonContent.Create(new { MemberId = memberId, BusiType = busiType, BusiBillNum = bill, ChangeValue = change }),
        };
        if (key is not null)
            request.Headers.Add("Idempotency-Key", key);
        using var response = await client.SendAsync(request);
        return await Envelope.ReadAsync(response);
    }

    public static async Task<Envelope> PostRawAsync(this HttpClient client, string path, string body, string contentType, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body) };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        if (key is not null)
            request.Headers.Add("Idempotency-Key", key);
        using var response = await client.SendAsync(request);
        return await Envelope.ReadAsync(response);
    }
}
