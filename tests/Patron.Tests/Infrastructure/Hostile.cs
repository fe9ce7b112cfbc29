using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using MongoDB.Bson;

namespace Patron.Tests.Infrastructure;

/// <summary>One hostile request: path, body, headers, and a short note on how it was made.</summary>
public sealed record HostileRequest(string Path, string? ContentType, byte[] Body, IReadOnlyList<(string Name, string Value)> Headers, string Note)
{
    public override string ToString()
    {
        var text = Encoding.UTF8.GetString(Body);
        var preview = text.Length > 600 ? text[..600] + $"… ({Body.Length} bytes)" : text;
        return $"{Note}: POST {Path} [{ContentType}] {string.Join(" ", Headers.Select(h => $"{h.Name}: {h.Value}"))}\n{preview}";
    }
}

/// <summary>A field of a request body, written in whichever wire format: text for XML and forms, a JSON token, or a list.</summary>
public sealed record WireField(string Key, string Text, string Json, string[]? Items = null, BsonValue? Bson = null)
{
    public static WireField Str(string key, string value) => new(key, value, JsonSerializer.Serialize(value));

    public static WireField Raw(string key, string json) => new(key, TextOf(json), json);

    /// <summary>What XML and forms carry for a JSON token: a string's value, anything else as written.</summary>
    public static string TextOf(string token)
    {
        if (!token.StartsWith('"'))
            return token;
        try
        {
            return JsonSerializer.Deserialize<string>(token) ?? token;
        }
        catch (JsonException)
        {
            return token;
        }
    }

    public static WireField List(string key, string[] items) => new(key, string.Join(",", items), "[" + string.Join(",", items) + "]", items);

    public WireField WithKey(string key) => this with { Key = key };
}

/// <summary>
/// Generators of hostile input: odd Unicode, huge numbers, long strings, deep nesting, XML
/// entities, broken BSON, and byte-level mutations of valid bodies.
/// </summary>
public static class Hostile
{
    public const string ParmNs = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Parm.Member";

    private static readonly string[] Specials =
    [
        "", " ", "null", "true", "0", "-0", "1", "-1", "+1", "01", " 1 ", "1.0", "1.5", "1e3", "1E+400", "-1e-400", "NaN", "Infinity",
        "0x1F", "1_000", "1,000", "\u0661\u0662", "\uFF11\uFF12", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "99999999999999999999999999999999999999", "0.000000000000000000000000000001",
        "P", "S", "E", "Z", "p", "PP", "\uFF30", "P\u0301", "\u0000", "\uFEFFP", "\uD800", "\uDFFF\uD800", "\U0001F642", "\U0001D7D8",
        "\u202Eevil", "a\u0000b", "<", ">", "&", "&amp;", "<![CDATA[x]]>", "]]>", "'", "\"", "\\", "\\u0000", "%00", "%", "%ZZ", "+",
        "&=&", "=", "[]", "{}", "[", "{", "'; DROP TABLE members; --", "\" OR 1=1 --", "${jndi:ldap://127.0.0.1/x}", "{{7*7}}",
        "../../../../etc/passwd", "C:\\Windows\\win.ini", "\r\n", "\t", "\u2028", "M0001", "L68F353AD0019", "hkl-test", "2026-01-05 10:00:00",
        "2026-02-30 10:00:00", "0000-00-00 00:00:00", "9999-12-31 23:59:59", "2026-01-05T10:00:00Z",
    ];

    public static readonly Gen<char> OddChar = Gen.Frequency(
        (10, Gen.Char['a', 'z']), (4, Gen.Char['0', '9']), (4, Gen.Char[' ', '~']), (2, Gen.Char['\u0000', '\u001F']),
        (2, Gen.Char['\u0080', '\u00FF']), (2, Gen.Char['\u4E00', '\u9FFF']), (2, Gen.Char['\uD800', '\uDFFF']),
        (2, Gen.Char["\u200B\u200E\u202E\uFEFF\uFFFD\uFFFE\uFFFF\u0301\u00A0\u2028\u2029\uFF10\uFF30\u0660"]));

    /// <summary>Short odd strings, the classic troublemakers, and now and then a very long one.</summary>
    public static readonly Gen<string> OddString = Gen.Frequency(
        (18, OddChar.Array[0, 24].Select(c => new string(c))),
        (12, Gen.OneOf(Specials)),
        (1, Gen.Select(Gen.Int[21, 70_000], Gen.OneOf("x", "9", "\U0001F642", "\uD800", "\u00E9", "<a>"), (n, s) => string.Concat(Enumerable.Repeat(s, n / s.Length)))));

    /// <summary>Numbers as JSON tokens, valid and not: huge, fractional, exponents, signs, NaN.</summary>
    public static readonly Gen<string> OddNumber = Gen.Frequency(
        (3, Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture))),
        (2, Gen.Double.Select(d => d.ToString("R", CultureInfo.InvariantCulture))),
        (2, Gen.OneOf("0", "-0", "1.0", "4.0", "1.5", "1e3", "1E+400", "-1e-400", "9223372036854775808", "-9223372036854775809",
            "18446744073709551616", "99999999999999999999999999999999999999", "NaN", "Infinity", "01", "+1", ".5", "1.", "0x10")),
        (1, Gen.Int[20, 500].Select(n => new string('9', n))));

    private static readonly Gen<string> Leaf = Gen.Frequency(
        (6, OddString.Select(s => JsonSerializer.Serialize(s))),
        (4, OddNumber),
        (2, Gen.OneOf("true", "false", "null")),
        (1, Gen.Select(Gen.Int[17, 2000], Gen.Bool, (n, arrays) => arrays ? new string('[', n) + new string(']', n)
            : string.Concat(Enumerable.Repeat("{\"a\":", n)) + "1" + new string('}', n))),
        (1, Gen.OneOf("'single'", "undefined", "\"unterminated", "/*c*/1", "[1,]", "{\"a\":1,}", "\"\\uD800\"", "\"\\uDC00\\uD800\"", "\"\\u0000\"")));

    /// <summary>Any JSON token: strings, numbers, literals, arrays, objects; sometimes nested far too deep or not JSON at all.</summary>
    public static readonly Gen<string> OddJson = Gen.Recursive<string>((depth, inner) => depth >= 3 ? Leaf : Gen.Frequency(
        (12, Leaf),
        (2, inner.Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
        (2, Gen.Select(OddString, inner, (k, v) => "{" + JsonSerializer.Serialize(k) + ":" + v + "}"))));

    /// <summary>A value for a field: a hostile string or a hostile JSON token.</summary>
    public static Gen<WireField> Odd(string key) => Gen.Frequency(
        (3, OddString.Select(s => WireField.Str(key, s))),
        (2, OddJson.Select(j => WireField.Raw(key, j))));

    /// <summary>
    /// An object of the given fields, in random order, with some dropped (when allowed), some
    /// repeated under another case (same value, so a poison cannot be outvoted), and junk fields.
    /// </summary>
    public static Gen<WireField[]> Shuffled(params Gen<WireField?>[] fields) =>
        Gen.Select(All(fields), Gen.Frequency((6, Gen.Const(0)), (1, Gen.Int[1, 3])), Odd("x").Array[0, 2], Gen.Int[0, int.MaxValue],
            (values, dupes, junk, seed) =>
            {
                var random = new Random(seed);
                var list = values.Where(v => v is not null).Select(v => v!).ToList();
                for (var i = 0; i < dupes && list.Count > 0; i++)
                {
                    var f = list[random.Next(list.Count)];
                    list.Add(f.WithKey(random.Next(2) == 0 ? f.Key.ToLowerInvariant() : f.Key.ToUpperInvariant()));
                }
                list.AddRange(junk.Select((j, i) => j.WithKey(random.Next(3) switch { 0 => "Extra" + i, 1 => "", _ => "\u0000k" + i })));
                return list.OrderBy(_ => random.Next()).ToArray();
            });

    private static Gen<T[]> All<T>(Gen<T>[] gens) => gens.Aggregate(Gen.Const(Array.Empty<T>()), (acc, g) => Gen.Select(acc, g, (a, v) => (T[])[.. a, v]));

    // ---- bodies in each wire format ----

    public static byte[] Json(IEnumerable<WireField> fields) =>
        Encoding.UTF8.GetBytes("{" + string.Join(",", fields.Select(f => JsonSerializer.Serialize(f.Key) + ":" + f.Json)) + "}");

    public static byte[] Xml(IEnumerable<WireField> fields, string root)
    {
        var body = new StringBuilder($"<{root} xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"{ParmNs}\">");
        foreach (var f in fields)
        {
            var name = XmlName(f.Key);
            if (f.Items is { } items)
                body.Append($"<{name} xmlns:a=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\">")
                    .Append(string.Concat(items.Select(i => $"<a:long>{XmlText(ItemText(i))}</a:long>"))).Append($"</{name}>");
            else
                body.Append($"<{name}>{XmlText(f.Text)}</{name}>");
        }
        return Encoding.UTF8.GetBytes(body.Append($"</{root}>").ToString());
    }

    public static byte[] Form(IEnumerable<WireField> fields) => Encoding.UTF8.GetBytes(string.Join("&", fields.SelectMany(f =>
        f.Items is { } items ? items.Select(i => Escape(f.Key) + "=" + Escape(ItemText(i))) : [Escape(f.Key) + "=" + Escape(f.Text)])));

    public static byte[] Bson(IEnumerable<WireField> fields)
    {
        var doc = new BsonDocument(allowDuplicateNames: true);
        foreach (var f in fields)
            doc.Add(Utf8Safe(f.Key).Replace("\0", ""), f.Bson ?? (f.Items is { } items ? new BsonArray(items.Select(i => BsonOf(ItemText(i)))) : BsonOf(f.Text)));
        return doc.ToBson();
    }

    /// <summary>Exotic BSON values the points API never expects.</summary>
    public static readonly Gen<BsonValue> OddBson = Gen.OneOf<BsonValue>(
        new BsonBinaryData([1, 2, 3]), ObjectId.Empty, new BsonDateTime(0), new BsonRegularExpression("^a+$"), new BsonJavaScript("1"),
        new BsonTimestamp(1), BsonMinKey.Value, BsonMaxKey.Value, BsonNull.Value, BsonUndefined.Value, new BsonDouble(double.NaN),
        new BsonDouble(double.PositiveInfinity), new BsonDouble(1e300), new BsonDouble(4.0), new BsonDecimal128(Decimal128.MaxValue),
        new BsonDecimal128(Decimal128.NegativeInfinity), new BsonInt32(int.MinValue), new BsonInt64(long.MinValue), new BsonBoolean(true),
        new BsonDocument("a", 1), new BsonArray { 1, "x" }, BsonSymbol.Create("P"));

    // List items are JSON tokens; XML, forms and BSON carry a quoted one as its text.
    private static string ItemText(string token) => WireField.TextOf(token);

    private static BsonValue BsonOf(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? new BsonInt64(l)
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && text.Contains('.') ? new BsonDouble(d)
        : new BsonString(Utf8Safe(text));

    // The test's own BSON writer refuses lone surrogates; broken UTF-8 comes from the byte mutations instead.
    private static string Utf8Safe(string s) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));

    private static string Escape(string s) => Uri.EscapeDataString(Utf8Safe(s));

    private static string XmlName(string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && char.IsAsciiLetter(key[0]) ? key : "Odd";

    // Escapes markup; characters XML forbids are written as character references, which the parser must refuse.
    private static string XmlText(string s) => string.Concat(s.Select(c => c switch
    {
        '<' => "&lt;", '>' => "&gt;", '&' => "&amp;",
        < ' ' and not ('\t' or '\n' or '\r') => $"&#{(int)c};",
        >= '\uD800' and <= '\uDFFF' => $"&#{(int)c};",
        _ => c.ToString(),
    }));

    // ---- raw attacks on each parser ----

    public static Gen<byte[]> XmlAttack(string root) => Gen.Frequency(
        (1, Gen.Const(Encoding.UTF8.GetBytes($"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><{root} xmlns="{ParmNs}"><MemberId>&lol9;</MemberId></{root}>"""))),
        (1, Gen.OneOf("file:///etc/passwd", "http://127.0.0.1:9/x", "file:///dev/random", "/proc/self/environ").Select(uri =>
            Encoding.UTF8.GetBytes($"""<!DOCTYPE r [<!ENTITY x SYSTEM "{uri}">]><{root} xmlns="{ParmNs}"><MemberId>&x;</MemberId><BusiBillNum>&x;</BusiBillNum></{root}>"""))),
        (1, Gen.Const(Encoding.UTF8.GetBytes($"""<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><{root} xmlns="{ParmNs}"/>"""))),
        (1, Gen.Const(Encoding.UTF8.GetBytes($"""<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><{root} xmlns="{ParmNs}"/>"""))),
        (2, Gen.Select(Gen.Int[10, 9000], Gen.Bool, (n, inside) => Encoding.UTF8.GetBytes(inside
            ? $"<{root} xmlns=\"{ParmNs}\"><MemberId>" + string.Concat(Enumerable.Repeat("<a>", n)) + "1" + string.Concat(Enumerable.Repeat("</a>", n)) + $"</MemberId></{root}>"
            : string.Concat(Enumerable.Repeat("<a>", n)) + string.Concat(Enumerable.Repeat("</a>", n))))),
        (1, Gen.Int[100, 4000].Select(n => Encoding.UTF8.GetBytes($"<{root} xmlns=\"{ParmNs}\" " + string.Concat(Enumerable.Range(0, n).Select(i => $"a{i}=\"{i}\" ")) + "/>"))),
        (1, Gen.Int[100, 6000].Select(n => Encoding.UTF8.GetBytes($"<{root} xmlns=\"{ParmNs}\">" + string.Concat(Enumerable.Range(0, n).Select(i => $"<MemberList><x>{i}</x></MemberList>")) + $"</{root}>"))),
        (2, Gen.OneOf(
            $"<{root} xmlns=\"urn:wrong\"><MemberId>1</MemberId></{root}>", $"<Wrong xmlns=\"{ParmNs}\"/>", $"<{root}>", "<", "", "<?xml?>",
            $"<{root} xmlns=\"{ParmNs}\"><MemberId i:nil=\"true\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"/></{root}>",
            $"<{root} xmlns=\"{ParmNs}\"><MemberId>&#0;</MemberId></{root}>", $"<{root} xmlns=\"{ParmNs}\"><MemberId>&#xD800;</MemberId></{root}>",
            $"<{root} xmlns=\"{ParmNs}\"><MemberId>&#99999999;</MemberId></{root}>", $"<{root} xmlns=\"{ParmNs}\"><!-- a -- b --></{root}>",
            $"<{root} xmlns=\"{ParmNs}\"><MemberId><![CDATA[1]]></MemberId><?pi x?></{root}>", $"<?xml version=\"1.0\" encoding=\"utf-16\"?><{root} xmlns=\"{ParmNs}\"/>",
            $"<?xml version=\"1.1\"?><{root} xmlns=\"{ParmNs}\"><MemberId>&#1;</MemberId></{root}>", $"<{root} xmlns=\"{ParmNs}\"><a:MemberId xmlns:a=\"{ParmNs}\">1</a:MemberId></{root}>",
            $"<{root} xmlns=\"{ParmNs}\"><MemberId>1</MemberId></{root}><second/>", $"\uFEFF<{root} xmlns=\"{ParmNs}\"/>")
            .Select(s => Encoding.UTF8.GetBytes(s))),
        (1, Gen.Const(Encoding.Unicode.GetBytes($"<{root} xmlns=\"{ParmNs}\"><MemberId>1</MemberId></{root}>"))));

    public static readonly Gen<byte[]> JsonAttack = Gen.Frequency(
        (12, OddJson.Select(j => Encoding.UTF8.GetBytes(j))),
        (1, Gen.Int[1000, 20_000].Select(n => Encoding.UTF8.GetBytes("{" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"k{i}\":{i}")) + "}"))),
        (1, Gen.OneOf("", " ", "\uFEFF{}", "{\"MemberId\":1}garbage", "{\"MemberId\":1}{\"MemberId\":2}", "{'MemberId':1}", "{MemberId:1}",
            "{\"MemberId\":1,\"memberid\":2,\"MEMBERID\":3}", "{\"MemberId\":1,\"MemberId\":1}", "{\"\\u0000\":1}", "{\"MemberId\":\"\\uD800\"}")
            .Select(s => Encoding.UTF8.GetBytes(s))),
        (1, Gen.Const(Encoding.Unicode.GetBytes("{\"MemberId\":1}"))),
        (1, Gen.Byte.Array[0, 200]));

    public static readonly Gen<byte[]> FormAttack = Gen.Frequency(
        (2, Gen.OneOf("%", "%Z", "%ZZ", "a=%C0%80", "a=%ED%A0%80", "&&&", "=x", "==", "MemberId", "MemberId=", "MemberId[]=1&MemberId[]=2",
            "MemberId=1&MemberId=2", "MemberId=1;BusiType=P", "Member%00Id=1", "%4DemberId=1", "MemberId=%2B1", "MemberId=1%0A")
            .Select(s => Encoding.UTF8.GetBytes(s))),
        (1, Gen.Int[1000, 12_000].Select(n => Encoding.UTF8.GetBytes(string.Join("&", Enumerable.Range(0, n).Select(i => $"k{i}={i}"))))),
        (1, Gen.Int[1000, 12_000].Select(n => Encoding.UTF8.GetBytes(string.Join("&", Enumerable.Repeat("MemberList=1", n))))),
        (1, Gen.Byte.Array[0, 200]));

    public static readonly Gen<byte[]> BsonAttack = Gen.Frequency(
        (2, Gen.Int[20, 9000].Select(NestedBson)),
        (2, Gen.Byte.Array[0, 200]),
        (2, Gen.OneOf<byte[]>(
            [5, 0, 0, 0, 0], [4, 0, 0, 0, 0], [255, 255, 255, 127, 0], [0, 0, 0, 128, 0], [5, 0, 0, 0], [],
            [16, 0, 0, 0, 2, 97, 0, 255, 255, 255, 255, 98, 0, 0, 0, 0], // a string whose length is -1
            [13, 0, 0, 0, 0x7F, 97, 0, 0, 0, 0, 0, 0, 0], // an unknown element type
            [14, 0, 0, 0, 2, 0xC0, 0x80, 0, 2, 0, 0, 0, 0x80, 0, 0])), // names and strings that are not UTF-8
        (1, Gen.Select(OddBson, Gen.Int[1, 5], (v, n) => { var doc = new BsonDocument(allowDuplicateNames: true); for (var i = 0; i < n; i++) doc.Add("MemberId", v); return doc.ToBson(); })));

    /// <summary>Documents nested <paramref name="depth"/> deep, {"a":{"a":…}}, built without recursion.</summary>
    public static byte[] NestedBson(int depth)
    {
        // Level i starts at 7i with its length, 5 + 8(depth - i); the innermost {} at 7·depth; then the closing zeros.
        var doc = new byte[5 + 8 * depth];
        for (var i = 0; i <= depth; i++)
        {
            BitConverter.TryWriteBytes(doc.AsSpan(7 * i, 4), 5 + 8 * (depth - i));
            if (i < depth)
                (doc[7 * i + 4], doc[7 * i + 5], doc[7 * i + 6]) = (3, (byte)'a', 0);
        }
        return doc;
    }

    // ---- mutation ----

    private static readonly byte[][] Tokens =
        [.. new[] { "\"", "{", "}", "[", "]", ":", ",", "<", ">", "&", "%", "=", "\\u", "\u0000", "-", "9999999999999999999999", "\uD83D", "<!DOCTYPE", "]]>", "null" }
            .Select(t => Encoding.UTF8.GetBytes(t)), [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0, 0, 0, 0x80]];

    /// <summary>Byte-level mutations of a valid body: flips, inserts, deletions, duplications, tokens.</summary>
    public static Gen<byte[]> Mutated(byte[] valid) => Gen.Select(Gen.Int[1, 8], Gen.Int[0, int.MaxValue], (count, seed) => Mutate(valid, count, seed));

    public static byte[] Mutate(byte[] valid, int count, int seed)
    {
        var random = new Random(seed);
        var bytes = new List<byte>(valid);
        for (var i = 0; i < count; i++)
        {
            var at = random.Next(bytes.Count + 1);
            switch (random.Next(6))
            {
                case 0 when at < bytes.Count: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes.Insert(at, (byte)random.Next(256)); break;
                case 2 when at < bytes.Count: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(16))); break;
                case 3 when at < bytes.Count:
                    var length = Math.Min(bytes.Count - at, 1 + random.Next(32));
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
                case 4: bytes.InsertRange(at, Tokens[random.Next(Tokens.Length)]); break;
                default: if (at < bytes.Count) bytes[at] = (byte)random.Next(256); break;
            }
        }
        return [.. bytes];
    }

    // ---- headers ----

    public static readonly Gen<string> OddHeader = Gen.Frequency(
        (3, Gen.Char[' ', '~'].Array[0, 40].Select(c => new string(c).Trim())),
        (1, Gen.Int[129, 9000].Select(n => new string('k', n))),
        (1, Gen.Char['\u00A0', '\u00FF'].Array[1, 10].Select(c => new string(c))));
}
