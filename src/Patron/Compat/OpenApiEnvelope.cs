using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Microsoft.AspNetCore.Routing.Patterns;
using Patron.Metrics;

namespace Patron.Compat;

public sealed class OpenApiOptions
{
    /// <summary>A path prefix served as well as the bare one, e.g. the seed's <c>/htest</c>.</summary>
    public string Prefix { get; set; } = "/htest";

    /// <summary>How far an envelope's timestamp may be from the server clock.</summary>
    public int TimestampWindowSeconds { get; set; } = 300;
}

/// <summary>The open API's answer <c>{code, msg, data}</c>: HTTP 200 for every business error, 429 over the rate limit.</summary>
public sealed class OpenApiResult : IResult
{
    /// <summary>How the envelope is written: letters of every script as they are, as the seed's partners read them.</summary>
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.Create(UnicodeRanges.All) };

    private readonly ErrorCode _code;
    private readonly string _msg;
    private readonly Action<Utf8JsonWriter>? _writeData;
    private readonly int? _status;

    private OpenApiResult(ErrorCode code, string msg, Action<Utf8JsonWriter>? writeData, int? status) =>
        (_code, _msg, _writeData, _status) = (code, msg, writeData, status);

    public ErrorCode Code => _code;

    /// <summary>A value written straight into the envelope by its source-generated serializer.</summary>
    public static OpenApiResult Ok<T>(T data, JsonTypeInfo<T> type) =>
        new(ErrorCode.Ok, PointsEnvelope.Success, json => JsonSerializer.Serialize(json, data, type), null);

    /// <summary>
    /// An answer already written as JSON text (see <see cref="JsonText{T}"/>), such as one a sale
    /// keeps for a retry. It is checked here, before any of the envelope is written: text that is
    /// not one JSON value throws now, and the caller gets a whole 5000 envelope, not a broken one.
    /// </summary>
    public static OpenApiResult OkJson(string json)
    {
        var utf8 = Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(utf8);
        if (!reader.Read() || !reader.TrySkip() || reader.Read())
            throw new JsonException("a kept answer is not one JSON value");
        return new(ErrorCode.Ok, PointsEnvelope.Success, writer => writer.WriteRawValue(utf8, skipInputValidation: true), null);
    }

    public static OpenApiResult Fail(Failure failure, int? status = null) => new(failure.Code, failure.Message, null, status);

    /// <summary>A failure answers with its code and no data, as <see cref="Outcome{T}"/> carries it.</summary>
    public static implicit operator OpenApiResult(Failure failure) => Fail(failure);

    /// <summary>A value as the JSON text this envelope would write for it.</summary>
    public static string JsonText<T>(T data, JsonTypeInfo<T> type)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
            JsonSerializer.Serialize(json, data, type);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// The method called: the last literal segment of the route it matched, a string the route
    /// already holds; "unknown" for the catch-all route, so that a caller cannot mint new series.
    /// </summary>
    private static string MethodOf(HttpContext http) =>
        http.GetEndpoint() is RouteEndpoint { RoutePattern.PathSegments: [.., { Parts: [RoutePatternLiteralPart last] }] }
            ? last.Content
            : "unknown";

    public async Task ExecuteAsync(HttpContext http)
    {
        http.Response.StatusCode = _status ?? _code switch
        {
            ErrorCode.Internal => StatusCodes.Status500InternalServerError,
            ErrorCode.RateLimited => StatusCodes.Status429TooManyRequests,
            _ => StatusCodes.Status200OK,
        };
        http.Response.ContentType = "application/json; charset=utf-8";
        PatronMetrics.Request(PatronMetrics.OpenApi, MethodOf(http), PatronMetrics.CodeTag(_code));
        // Into the response's pipe, so that a serializer's flush is a copy rather than a blocking write.
        using (var json = new Utf8JsonWriter(http.Response.BodyWriter, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteNumber("code", (int)_code);
            json.WriteString("msg", CompatXml.Writable(_msg));
            json.WritePropertyName("data");
            if (_writeData is null)
                json.WriteNullValue();
            else
                _writeData(json);
            json.WriteEndObject();
        }
        await http.Response.BodyWriter.FlushAsync();
    }
}
