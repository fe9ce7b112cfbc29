using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Patron.Tests.Infrastructure;

/// <summary>The points envelope as a partner reads it.</summary>
public sealed record Envelope(HttpStatusCode Status, int Errcode, string Errmsg, JsonNode? Tag)
{
    public long TagLong(string name) => Tag![name]!.GetValue<long>();

    public static async Task<Envelope> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        var json = JsonNode.Parse(body) ?? throw new InvalidOperationException("empty body");
        return new Envelope(response.StatusCode, json["errcode"]!.GetValue<int>(), json["errmsg"]!.GetValue<string>(), json["tag"]);
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
