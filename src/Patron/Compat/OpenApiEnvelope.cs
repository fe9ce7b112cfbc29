using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace Patron.Compat;

public sealed class OpenApiOptions
{
    /// <summary>A path prefix served as well as the bare one, e.g. the seed's <c>/htest</c>.</summary>
    public string Prefix { get; set; } = "/htest";

    /// <summary>How far an envelope's timestamp may be from the server clock.</summary>
    public int TimestampWindowSeconds { get; set; } = 300;
}

/// <summary>The open API's answer <c>{code, msg, data}</c>: HTTP 200 for every business error, 429 over the rate limit.</summary>
public sealed class OpenApiResult(ErrorCode code, string msg, JsonNode? data, int? status = null) : IResult
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.Create(UnicodeRanges.All) };

    public ErrorCode Code => code;

    public static OpenApiResult Ok(JsonNode? data) => new(ErrorCode.Ok, PointsEnvelope.Success, data);

    public static OpenApiResult Fail(Failure failure, int? status = null) => new(failure.Code, failure.Message, null, status);

    public async Task ExecuteAsync(HttpContext http)
    {
        http.Response.StatusCode = status ?? code switch
        {
            ErrorCode.Internal => StatusCodes.Status500InternalServerError,
            ErrorCode.RateLimited => StatusCodes.Status429TooManyRequests,
            _ => StatusCodes.Status200OK,
        };
        http.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(http.Response.Body, Options);
        json.WriteStartObject();
        json.WriteNumber("code", (int)code);
        json.WriteString("msg", CompatXml.Writable(msg));
        json.WritePropertyName("data");
        if (data is null)
            json.WriteNullValue();
        else
            data.WriteTo(json);
        json.WriteEndObject();
    }
}
