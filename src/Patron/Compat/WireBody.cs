using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Bson.Serialization;

namespace Patron.Compat;

/// <summary>
/// Reads a points-API body in any of the seed's four formats into one neutral shape, a JSON
/// object, so that binding and validation are written once. XML and form values arrive as text;
/// the binder accepts numbers written as text, as the original system did.
/// </summary>
public static class WireBody
{
    public const int MaxBytes = 64 * 1024;

    public static async Task<Outcome<JsonObject>> ReadAsync(HttpRequest request, string xmlRoot, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes)
            return TooLarge;
        var bytes = await ReadLimitedAsync(request.Body, ct);
        if (bytes is null)
            return TooLarge;

        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed)
            ? parsed.MediaType.Value?.ToLowerInvariant() : null;
        try
        {
            return mediaType switch
            {
                null or "application/json" or "text/json" => ParseJson(bytes),
                "application/xml" or "text/xml" => ParseXml(bytes, xmlRoot),
                "application/x-www-form-urlencoded" => ParseForm(bytes),
                "application/bson" => ParseBson(bytes),
                _ => Failure.Invalid("Content-Type", $"'{mediaType}' is not supported; use JSON, XML, form or BSON"),
            };
        }
        catch (Exception e) when (e is JsonException or XmlException or FormatException or EndOfStreamException
                                      or BsonSerializationException or InvalidOperationException or ArgumentException or OverflowException)
        {
            // The parser's own message can echo input; the format name is enough for the caller.
            return Failure.Invalid("body", $"malformed {FormatName(mediaType)}");
        }
    }

    private static readonly Failure TooLarge = Failure.Invalid("body", $"larger than {MaxBytes / 1024} KiB");

    private static async Task<byte[]?> ReadLimitedAsync(Stream body, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
                return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static Outcome<JsonObject> ParseJson(byte[] bytes)
    {
        var node = JsonNode.Parse(bytes, new JsonNodeOptions { PropertyNameCaseInsensitive = true },
            new JsonDocumentOptions { MaxDepth = 16 });
        return node is JsonObject obj ? obj : Failure.Invalid("body", "expected a JSON object");
    }

    /// <summary>
    /// DataContract XML, element order free. DTDs are refused outright and nothing external is
    /// ever resolved, so neither XXE nor entity expansion can happen.
    /// </summary>
    private static Outcome<JsonObject> ParseXml(byte[] bytes, string rootName)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = MaxBytes * 2,
            MaxCharactersFromEntities = 0,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
        };
        using var reader = XmlReader.Create(new MemoryStream(bytes), settings);
        var root = XDocument.Load(reader).Root!;
        if (root.Name.LocalName != rootName || (root.Name.NamespaceName != "" && root.Name.NamespaceName != CompatXml.ParmNamespace))
            return Failure.Invalid("body", $"expected <{rootName}> in namespace {CompatXml.ParmNamespace}");

        var obj = new JsonObject(new JsonNodeOptions { PropertyNameCaseInsensitive = true });
        foreach (var element in root.Elements())
        {
            if (element.Attribute(CompatXml.Xsi + "nil")?.Value == "true")
                obj[element.Name.LocalName] = null;
            else if (element.HasElements)
                obj[element.Name.LocalName] = new JsonArray([.. element.Elements().Select(e => (JsonNode)JsonValue.Create(e.Value))]);
            else
                obj[element.Name.LocalName] = element.Value;
        }
        return obj;
    }

    private static Outcome<JsonObject> ParseForm(byte[] bytes)
    {
        var obj = new JsonObject(new JsonNodeOptions { PropertyNameCaseInsensitive = true });
        foreach (var (key, values) in QueryHelpers.ParseQuery(Encoding.UTF8.GetString(bytes)))
        {
            // jQuery-style "MemberList[]" and repeated keys both make a list.
            var name = key.EndsWith("[]", StringComparison.Ordinal) ? key[..^2] : key;
            obj[name] = values.Count == 1 && name == key
                ? values[0]
                : new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
        }
        return obj;
    }

    private static Outcome<JsonObject> ParseBson(byte[] bytes)
    {
        using var reader = new BsonBinaryReader(new MemoryStream(bytes), new BsonBinaryReaderSettings { MaxDocumentSize = MaxBytes });
        var document = BsonSerializer.Deserialize<BsonDocument>(reader);
        if (!reader.IsAtEndOfFile())
            return Failure.Invalid("body", "trailing bytes after the BSON document");
        return (JsonObject)ToJson(document, depth: 0)!;
    }

    private static JsonNode? ToJson(BsonValue value, int depth)
    {
        if (depth > 16)
            throw new FormatException("BSON nested too deeply");
        return value switch
        {
            BsonDocument doc => new JsonObject(doc.Elements.Select(e => KeyValuePair.Create(e.Name, ToJson(e.Value, depth + 1))),
                new JsonNodeOptions { PropertyNameCaseInsensitive = true }),
            BsonArray array => new JsonArray([.. array.Select(v => ToJson(v, depth + 1))]),
            BsonInt32 i => JsonValue.Create(i.Value),
            BsonInt64 l => JsonValue.Create(l.Value),
            // Kept as decimal so that 4.0 can still bind as an integer; NaN and huge values as text.
            BsonDouble d => double.IsFinite(d.Value) && Math.Abs(d.Value) < 7.9e27 ? JsonValue.Create((decimal)d.Value) : JsonValue.Create(d.Value.ToString(CultureInfo.InvariantCulture)),
            BsonDecimal128 m => JsonValue.Create(Decimal128.ToDecimal(m.Value)),
            BsonString s => JsonValue.Create(s.Value),
            BsonBoolean b => JsonValue.Create(b.Value),
            BsonNull or BsonUndefined => null,
            _ => JsonValue.Create(value.ToString()),
        };
    }

    private static string FormatName(string? mediaType) => mediaType switch
    {
        "application/xml" or "text/xml" => "XML",
        "application/x-www-form-urlencoded" => "form",
        "application/bson" => "BSON",
        _ => "JSON",
    };
}
