using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.WebUtilities;
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
        var bytes = await ReadLimitedAsync(request.BodyReader, ct);
        if (bytes is null)
            return TooLarge;

        var mediaType = PointsEnvelope.MediaType(request.ContentType);
        try
        {
            var body = mediaType switch
            {
                null or "application/json" or "text/json" => ParseJson(bytes),
                "application/xml" or "text/xml" => ParseXml(bytes, xmlRoot),
                "application/x-www-form-urlencoded" => ParseForm(bytes),
                "application/bson" => ParseBson(bytes),
                _ => Failure.Invalid("Content-Type", $"'{mediaType}' is not supported; use JSON, XML, form or BSON"),
            };
            ReadFully(body.Value);
            return body;
        }
        catch (Exception e) when (e is JsonException or XmlException or FormatException or EndOfStreamException
                                      or BsonSerializationException or InvalidOperationException or ArgumentException or OverflowException)
        {
            // The parser's own message can echo input; the format name is enough for the caller.
            return Failure.Invalid("body", $"malformed {FormatName(mediaType)}");
        }
    }

    private static readonly Failure TooLarge = Failure.Invalid("body", $"larger than {MaxBytes / 1024} KiB");

    /// <summary>The whole body in one array of its own size (Kestrel's pooled buffers hold it until then), or null past <see cref="MaxBytes"/>.</summary>
    private static async Task<byte[]?> ReadLimitedAsync(PipeReader body, CancellationToken ct)
    {
        while (true)
        {
            var read = await body.ReadAsync(ct);
            var buffer = read.Buffer;
            if (buffer.Length > MaxBytes)
            {
                body.AdvanceTo(buffer.End);
                return null;
            }
            if (read.IsCompleted)
            {
                var bytes = buffer.ToArray();
                body.AdvanceTo(buffer.End);
                return bytes;
            }
            body.AdvanceTo(buffer.Start, buffer.End); // nothing consumed yet: wait for more
        }
    }

    /// <summary>
    /// Reads every name and string of a parsed object once, here, inside the parser's try.
    /// System.Text.Json builds an object's names and decodes its strings lazily, so a name given
    /// twice (names are case-insensitive) or an unpaired surrogate escape would otherwise throw
    /// later, inside a handler, as a 500.
    /// </summary>
    public static void ReadFully(JsonNode? root)
    {
        var pending = new Stack<JsonNode?>();
        pending.Push(root);
        while (pending.TryPop(out var node))
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (_, value) in obj)
                        pending.Push(value);
                    break;
                case JsonArray array:
                    foreach (var item in array)
                        pending.Push(item);
                    break;
                case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                    _ = value.GetValue<string>();
                    break;
            }
        }
    }

    private static Outcome<JsonObject> ParseJson(byte[] bytes)
    {
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            return Failure.Invalid("body", "malformed JSON: not UTF-8");
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
        if (!IsWellFramed(bytes, MaxBsonDepth))
            return Failure.Invalid("body", "malformed BSON");
        using var reader = new BsonBinaryReader(new MemoryStream(bytes), new BsonBinaryReaderSettings { MaxDocumentSize = MaxBytes });
        var document = BsonSerializer.Deserialize<BsonDocument>(reader);
        if (!reader.IsAtEndOfFile())
            return Failure.Invalid("body", "trailing bytes after the BSON document");
        return (JsonObject)ToJson(document, depth: 0)!;
    }

    private const int MaxBsonDepth = 16;

    /// <summary>
    /// Checks a BSON document's framing before MongoDB's reader sees it: every length inside the
    /// document that holds it, only the element types a caller could mean, nesting at most
    /// <paramref name="maxDepth"/>. The reader trusts a string's or binary's length and reads that
    /// much first, so one mangled length in an 80-byte body cost seconds and up to 2 GB; and it
    /// recurses once per level of nesting.
    /// </summary>
    public static bool IsWellFramed(ReadOnlySpan<byte> bson, int maxDepth)
    {
        if (bson.Length < 5 || Int32At(bson, 0) != bson.Length)
            return false;
        var ends = new Stack<int>();
        ends.Push(bson.Length);
        var at = 4;
        while (ends.TryPeek(out var end))
        {
            if (at >= end)
                return false;
            var type = bson[at++];
            if (type == 0)
            {
                if (at != end)
                    return false;
                ends.Pop();
                continue;
            }
            var name = bson[at..end].IndexOf((byte)0); // the element's name, a C string
            if (name < 0)
                return false;
            at += name + 1;
            if (type is 0x03 or 0x04) // a document or an array: check its inside next
            {
                var size = at + 4 <= end ? Int32At(bson, at) : -1;
                if (size < 5 || size > end - at || ends.Count >= maxDepth)
                    return false;
                ends.Push(at + size);
                at += 4;
                continue;
            }
            var length = type switch
            {
                0x01 or 0x09 or 0x11 or 0x12 => 8, // double, UTC time, timestamp, int64
                0x10 => 4, // int32
                0x13 => 16, // decimal128
                0x07 => 12, // ObjectId
                0x08 => 1, // boolean
                0x06 or 0x0A or 0x7F or 0xFF => 0, // undefined, null, max key, min key
                0x02 or 0x0D or 0x0E => StringSize(bson, at, end), // string, JavaScript, symbol
                0x05 => at + 4 <= end && Int32At(bson, at) is >= 0 and var n && n <= end - at - 5 ? 5 + n : -1, // binary
                0x0B => RegexSize(bson, at, end),
                _ => -1, // unknown, or deprecated with a document inside (code with scope, DBPointer)
            };
            if (length < 0 || length > end - at)
                return false;
            at += length;
        }
        return at == bson.Length;
    }

    private static int Int32At(ReadOnlySpan<byte> bytes, int at) => System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);

    private static int StringSize(ReadOnlySpan<byte> bson, int at, int end)
    {
        if (at + 4 > end)
            return -1;
        var length = Int32At(bson, at);
        return length >= 1 && length <= end - at - 4 && bson[at + 4 + length - 1] == 0 ? 4 + length : -1;
    }

    private static int RegexSize(ReadOnlySpan<byte> bson, int at, int end)
    {
        var pattern = bson[at..end].IndexOf((byte)0);
        var options = pattern < 0 ? -1 : bson[(at + pattern + 1)..end].IndexOf((byte)0);
        return options < 0 ? -1 : pattern + 1 + options + 1;
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
