using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using System.Xml;
using System.Xml.Linq;
using Microsoft.Net.Http.Headers;
using MongoDB.Bson;
using Patron.Metrics;

namespace Patron.Compat;

public static class CompatXml
{
    public const string ParmNamespace = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Parm.Member";
    public const string ResultNamespace = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer";
    public const string TagNamespace = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Result.Member";
    public static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    /// <summary>
    /// A message that may echo the caller's input, made writable in XML, BSON and JSON alike:
    /// characters XML 1.0 forbids (controls, U+FFFE, U+FFFF) and unpaired surrogates become U+FFFD.
    /// </summary>
    public static string Writable(string text)
    {
        if (text.All(c => !char.IsSurrogate(c) && XmlConvert.IsXmlChar(c)))
            return text;
        var clean = new System.Text.StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                clean.Append(text[i]).Append(text[++i]);
            else
                clean.Append(char.IsSurrogate(text[i]) || !XmlConvert.IsXmlChar(text[i]) ? '\uFFFD' : text[i]);
        }
        return clean.ToString();
    }
}

/// <summary>The seed's MemberValuePointAddResult; property order is the JSON sample's.</summary>
public sealed record PointAddTag(long MemberId, long AutoId, long ValuePointBefore, long ValuePointAfter,
    byte MemberLevelIdBefore, byte MemberLevelIdAfter);

public enum WireFormat { Json, Xml, Bson }

/// <summary>
/// The points API's envelope {errcode, errmsg, tag}, written in the format <see cref="Negotiate"/>
/// picks. Every name, namespace and prefix is pinned by hand: existing clients parse the seed's
/// sample, and a serializer's defaults would not reproduce it.
/// </summary>
public sealed class PointsEnvelope : IResult
{
    public const string Success = "操作成功";
    private const string PointAddRoot = "CommonOperationResultWithTagOfMemberValuePointAddResultZ8ov0R4d";
    private const string PlainRoot = "CommonOperationResult";

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.Create(UnicodeRanges.All) };

    private readonly int _status;
    private readonly int _errcode;
    private readonly string _errmsg;
    private readonly PointAddTag? _pointTag;
    private readonly string? _textTag;
    private readonly bool _pointShape;

    private PointsEnvelope(int status, int errcode, string errmsg, PointAddTag? pointTag, string? textTag, bool pointShape) =>
        (_status, _errcode, _errmsg, _pointTag, _textTag, _pointShape) = (status, errcode, CompatXml.Writable(errmsg), pointTag, textTag, pointShape);

    /// <summary>Success, with a note after the seed's message when the points are pending or a reversal fell short.</summary>
    public static PointsEnvelope PointAdded(PointAddTag tag, string? note = null) =>
        new(200, 0, note is null ? Success : $"{Success}: {note}", tag, null, pointShape: true);

    /// <summary>Any errcode with a tag, as the seed's samples show; for documentation and tests.</summary>
    public static PointsEnvelope Sample(int errcode, string errmsg, PointAddTag tag) => new(200, errcode, errmsg, tag, null, pointShape: true);

    public static PointsEnvelope LevelSet(string tag) => new(200, 0, Success, null, tag, pointShape: false);

    /// <summary>A failure in the shape of the endpoint that failed (Point/Add or Level/Set).</summary>
    public static PointsEnvelope Failed(Failure failure, bool pointShape, int? status = null) =>
        new(status ?? StatusFor(failure.Code), (int)failure.Code, failure.Message, null, null, pointShape);

    /// <summary>Business errors answer 200, as the seed's clients expect; transport-level ones do not.</summary>
    public static int StatusFor(ErrorCode code) => code switch
    {
        ErrorCode.UnknownChannel => StatusCodes.Status401Unauthorized,
        ErrorCode.ScopeNotGranted => StatusCodes.Status403Forbidden,
        ErrorCode.InvalidParameter => StatusCodes.Status400BadRequest,
        ErrorCode.RateLimited => StatusCodes.Status429TooManyRequests,
        ErrorCode.Internal => StatusCodes.Status500InternalServerError,
        _ => StatusCodes.Status200OK,
    };

    /// <summary>
    /// The answer's format and media type, chosen as ASP.NET Web API 2 chose them, which the seed's
    /// clients were written against: by the Accept header when there is one (JSON when it names
    /// nothing we write); without one, by the request's own Content-Type: XML in, XML out (text/xml
    /// answered as text/xml), BSON in, BSON out, JSON or a form in, JSON out.
    /// </summary>
    public static (WireFormat Format, string ContentType) Negotiate(HttpRequest request)
    {
        if (request.Headers.Accept.All(string.IsNullOrWhiteSpace))
            return MediaType(request.ContentType) switch
            {
                "application/xml" => (WireFormat.Xml, XmlType),
                "text/xml" => (WireFormat.Xml, "text/xml; charset=utf-8"),
                "application/bson" => (WireFormat.Bson, BsonType),
                "text/json" => (WireFormat.Json, "text/json; charset=utf-8"),
                _ => (WireFormat.Json, JsonType),
            };
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
            return (WireFormat.Json, JsonType);
        foreach (var media in accepted.OrderByDescending(m => m.Quality ?? 1.0))
        {
            switch (media.MediaType.Value?.ToLowerInvariant())
            {
                case "application/json" or "text/json" or "*/*" or "application/*": return (WireFormat.Json, JsonType);
                case "application/xml" or "text/xml": return (WireFormat.Xml, XmlType);
                case "application/bson": return (WireFormat.Bson, BsonType);
            }
        }
        return (WireFormat.Json, JsonType);
    }

    private const string JsonType = "application/json; charset=utf-8";
    private const string XmlType = "application/xml; charset=utf-8";
    private const string BsonType = "application/bson";

    /// <summary>The media type of a Content-Type header, lower case; null when there is none or it cannot be read.</summary>
    public static string? MediaType(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType.Value?.ToLowerInvariant() : null;

    public async Task ExecuteAsync(HttpContext http)
    {
        var (format, contentType) = Negotiate(http.Request);
        var response = http.Response;
        response.StatusCode = _status;
        PatronMetrics.Request(PatronMetrics.PointsApi, _pointShape ? "Point/Add" : "Level/Set", PatronMetrics.CodeTag(_errcode));
        if (_status == StatusCodes.Status401Unauthorized)
            response.Headers.WWWAuthenticate = "Bearer";
        response.ContentType = contentType;
        var bytes = format switch
        {
            WireFormat.Xml => ToXml(),
            WireFormat.Bson => ToBson(),
            _ => ToJson(),
        };
        await response.Body.WriteAsync(bytes);
    }

    public byte[] ToJson()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteNumber("errcode", _errcode);
            json.WriteString("errmsg", _errmsg);
            if (_pointTag is { } t)
            {
                json.WriteStartObject("tag");
                json.WriteNumber("MemberId", t.MemberId);
                json.WriteNumber("AutoId", t.AutoId);
                json.WriteNumber("ValuePointBefore", t.ValuePointBefore);
                json.WriteNumber("ValuePointAfter", t.ValuePointAfter);
                json.WriteNumber("MemberLevelIdBefore", t.MemberLevelIdBefore);
                json.WriteNumber("MemberLevelIdAfter", t.MemberLevelIdAfter);
                json.WriteEndObject();
            }
            else if (_textTag is not null)
                json.WriteString("tag", _textTag);
            else
                json.WriteNull("tag");
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public byte[] ToXml()
    {
        using var stream = new MemoryStream();
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", OmitXmlDeclaration = true, NewLineChars = "\n", Encoding = new System.Text.UTF8Encoding(false) };
        using (var xml = XmlWriter.Create(stream, settings))
        {
            xml.WriteStartElement(_pointShape ? PointAddRoot : PlainRoot, CompatXml.ResultNamespace);
            xml.WriteAttributeString("xmlns", "i", null, CompatXml.Xsi.NamespaceName);
            xml.WriteElementString("errcode", CompatXml.ResultNamespace, _errcode.ToString(System.Globalization.CultureInfo.InvariantCulture));
            xml.WriteElementString("errmsg", CompatXml.ResultNamespace, _errmsg);
            xml.WriteStartElement("tag", CompatXml.ResultNamespace);
            if (_pointTag is { } t)
            {
                // DataContract order: alphabetical, as in the seed's sample.
                xml.WriteAttributeString("xmlns", "d2p1", null, CompatXml.TagNamespace);
                WriteTagValue(xml, "AutoId", t.AutoId);
                WriteTagValue(xml, "MemberId", t.MemberId);
                WriteTagValue(xml, "MemberLevelIdAfter", t.MemberLevelIdAfter);
                WriteTagValue(xml, "MemberLevelIdBefore", t.MemberLevelIdBefore);
                WriteTagValue(xml, "ValuePointAfter", t.ValuePointAfter);
                WriteTagValue(xml, "ValuePointBefore", t.ValuePointBefore);
            }
            else if (_textTag is not null)
                xml.WriteString(_textTag);
            else
                xml.WriteAttributeString("nil", CompatXml.Xsi.NamespaceName, "true");
            xml.WriteEndElement();
            xml.WriteEndElement();
        }
        return stream.ToArray();
    }

    private static void WriteTagValue(XmlWriter xml, string name, long value) =>
        xml.WriteElementString("d2p1", name, CompatXml.TagNamespace, value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public byte[] ToBson()
    {
        var document = new BsonDocument
        {
            { "errcode", _errcode },
            { "errmsg", _errmsg },
            {
                "tag", _pointTag is { } t
                    ? new BsonDocument
                    {
                        { "MemberId", t.MemberId },
                        { "AutoId", t.AutoId },
                        { "ValuePointBefore", t.ValuePointBefore },
                        { "ValuePointAfter", t.ValuePointAfter },
                        { "MemberLevelIdBefore", (int)t.MemberLevelIdBefore },
                        { "MemberLevelIdAfter", (int)t.MemberLevelIdAfter },
                    }
                    : _textTag is not null ? new BsonString(_textTag) : BsonNull.Value
            },
        };
        return document.ToBson();
    }
}
