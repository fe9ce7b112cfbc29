using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using CsCheck;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using Patron.Compat;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>
/// Property-based hostile input against both partner APIs, every body format and every open-API
/// method. Each generated request is one that must fail (a poison is always planted: an unknown
/// member, an invalid field, another channel's saleNo…), so that the properties are simple: no
/// 500, no hang, an answer in the API's own envelope with a SPEC §7 code, no change to any data,
/// and the service healthy afterwards. With several poisons at once only the first layer's code
/// is known (the API key's, on the points API), so each test also demands a share of cases that
/// reach a business rule; PlantedProblemTests plant one problem at a time and check every code.
/// </summary>
public abstract partial class HostileInputTests(Backend backend, int cases, ITestOutputHelper output) : PatronTest(backend)
{
    private static readonly int[] SpecCodes = [1001, 1002, 1003, 1004, 1005, 1006, 1007, 2001, 2002, 2003, 2101, 2102, 2103, 2104, 2201];
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);
    private static readonly long[] Members = [8_000_000_001, 8_000_000_002, 8_000_000_003];
    private const long Rich = 8_000_000_001; // holds 1000 points; the others none
    private const string ValidDesKey = TestCatalog.DesKey;

    private static string CodeOf(long id) => $"FZ{id % 1000:D3}QX7KP2M";

    // Members whose ids no mutation of a small number reaches, so that a mangled body cannot name one by chance.
    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        catalog["members"] = new JsonArray([.. Members.Select(id => (JsonNode)new JsonObject { ["id"] = id, ["code"] = CodeOf(id) })]);
        return catalog;
    }

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.UseSetting("RateLimit:PermitsPerSecond", "0").UseSetting("Logging:LogLevel:Default", "Warning");

    // ---- the properties ----

    private async Task FuzzAsync(string name, Gen<HostileRequest> gen, Func<HostileRequest, HttpResponseMessage, byte[], int> check, double minBusinessShare)
    {
        var before = await SnapshotAsync();
        var http = App.CreateClient();
        var codes = new ConcurrentDictionary<int, int>();
        var kinds = new ConcurrentDictionary<string, (int Count, long Ticks)>();
        var clock = Stopwatch.StartNew();

        await gen.SampleAsync(async request =>
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, request.Path) { Content = new ByteArrayContent(request.Body) };
            if (request.ContentType is not null)
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            foreach (var (header, value) in request.Headers)
                message.Headers.TryAddWithoutValidation(header, value);
            using var timeout = new CancellationTokenSource(RequestTimeout);
            var started = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(message, timeout.Token);
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            Assert.True(response.StatusCode != HttpStatusCode.InternalServerError, $"500: {Encoding.UTF8.GetString(body)}");
            var code = check(request, response, body);
            codes.AddOrUpdate(code, 1, (_, n) => n + 1);
            var took = Stopwatch.GetTimestamp() - started;
            kinds.AddOrUpdate(request.Note.Split(' ')[..2] is var k ? string.Join(' ', k) : "", (1, took), (_, v) => (v.Count + 1, v.Ticks + took));
        }, iter: cases, threads: 2, print: r => r.ToString());

        foreach (var (kind, (count, ticks)) in kinds.OrderByDescending(k => k.Value.Ticks))
            output.WriteLine($"  {kind}: {count} cases, {Stopwatch.GetElapsedTime(0, ticks).TotalSeconds:F1} s in requests");
        output.WriteLine($"{name}: {cases} cases in {clock.Elapsed.TotalSeconds:F1} s; codes {string.Join(", ", codes.OrderBy(c => c.Key).Select(c => $"{c.Key}×{c.Value}"))}");
        AssertBusinessShare(name, codes, cases, minBusinessShare);
        Assert.Equal(before, await SnapshotAsync());
        using var health = await App.CreateClient().GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    /// <summary>Point/Add and Level/Set: the {errcode, errmsg, tag} envelope in the format negotiated, with its HTTP status.</summary>
    private static int CheckPointsEnvelope(HostileRequest request, HttpResponseMessage response, byte[] body, string root)
    {
        var (errcode, errmsg) = response.Content.Headers.ContentType?.MediaType switch
        {
            "application/xml" or "text/xml" => FromXml(body, root),
            "application/bson" => FromBson(body),
            "application/json" or "text/json" => FromJson(body),
            var other => throw new Xunit.Sdk.XunitException($"unexpected content type {other}"),
        };
        Assert.Contains(errcode, SpecCodes);
        AssertAuthDecides(request, errcode);
        Assert.False(string.IsNullOrWhiteSpace(errmsg));
        var status = errcode switch { 1001 => 401, 1004 => 400, 1005 => 403, 1007 => 429, _ => 200 };
        Assert.Equal(status, (int)response.StatusCode);
        return errcode;
    }

    private static (int, string) FromJson(byte[] body)
    {
        var json = JsonNode.Parse(body)!;
        Assert.Null(json["tag"]);
        return (json["errcode"]!.GetValue<int>(), json["errmsg"]!.GetValue<string>());
    }

    private static (int, string) FromXml(byte[] body, string root)
    {
        XNamespace ns = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer";
        var xml = XDocument.Parse(Encoding.UTF8.GetString(body)).Root!;
        Assert.Equal(ns + root, xml.Name);
        return (int.Parse(xml.Element(ns + "errcode")!.Value, CultureInfo.InvariantCulture), xml.Element(ns + "errmsg")!.Value);
    }

    private static (int, string) FromBson(byte[] body)
    {
        var doc = BsonSerializer.Deserialize<BsonDocument>(body);
        return (doc["errcode"].AsInt32, doc["errmsg"].AsString);
    }

    /// <summary>The open API: HTTP 200 and {code, msg, data}; data only on success, which only a read may have.</summary>
    private static int CheckOpenApiEnvelope(HttpResponseMessage response, byte[] body, bool readOnly)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(body)!.AsObject();
        var code = json["code"]!.GetValue<int>();
        Assert.True(SpecCodes.Contains(code) || (readOnly && code == 0), $"code {code}: {json["msg"]}");
        Assert.False(string.IsNullOrWhiteSpace(json["msg"]!.GetValue<string>()));
        Assert.True(json.ContainsKey("data"));
        if (code != 0)
            Assert.Null(json["data"]);
        return code;
    }

    private Task<string> SnapshotAsync() => App.QueryAsync(async db => JsonSerializer.Serialize(new
    {
        Members = await db.Members.AsNoTracking().OrderBy(m => m.Id).ToListAsync(),
        Ledger = await db.PointEntries.AsNoTracking().OrderBy(p => p.AutoId).ToListAsync(),
        MemberLog = await db.MemberLogs.AsNoTracking().OrderBy(l => l.Id).ToListAsync(),
        Sales = await db.CardSales.AsNoTracking().OrderBy(s => s.Id).ToListAsync(),
        Cards = await db.MemberCards.AsNoTracking().OrderBy(c => c.Id).ToListAsync(),
        Entries = await db.UsageEntries.AsNoTracking().OrderBy(e => e.Id).ToListAsync(),
        Uses = await db.CardUses.AsNoTracking().OrderBy(u => u.Id).ToListAsync(),
        UseLog = await db.CardUseLogs.AsNoTracking().OrderBy(l => l.Id).ToListAsync(),
        Channels = await db.Channels.AsNoTracking().OrderBy(c => c.Id).ToListAsync(),
        Levels = await db.Levels.AsNoTracking().OrderBy(l => l.Id).ToListAsync(),
        Audit = await db.AuditLog.CountAsync(),
    }));

    // ---- the points API ----

    private static readonly Gen<WireField> RealMember = Gen.Select(Gen.OneOf(Members), Gen.Bool, (id, text) => text ? Str("MemberId", id.ToString()) : Raw("MemberId", id.ToString()));

    private static readonly Gen<WireField> UnknownMember = Gen.Frequency(
        (2, Gen.Long[1, 7_999_999_999].Select(id => Raw("MemberId", id.ToString()))),
        (1, Gen.Long.Where(id => !Members.Contains(id)).Select(id => Str("MemberId", id.ToString()))),
        (2, Hostile.Odd("MemberId")));

    private static bool IsBusiType(WireField f) => f.Text.Length == 1 && "PSRCEZ".Contains(f.Text[0]);

    private static Gen<WireField?> Maybe(Gen<WireField> gen) => Gen.Frequency((9, gen.Select(f => (WireField?)f)), (1, Gen.Const<WireField?>((WireField?)null)));

    private static readonly Gen<WireField> AnyType = Gen.Frequency((3, Gen.OneOf("P", "S", "R", "C", "E", "Z").Select(t => Str("BusiType", t))), (2, Hostile.Odd("BusiType")));
    private static readonly Gen<WireField> AnyBill = Gen.Frequency((3, Gen.Int[1, 99999].Select(n => Str("BusiBillNum", $"B-{n}"))), (2, Hostile.Odd("BusiBillNum")));
    private static readonly Gen<WireField> AnyChange = Gen.Frequency((3, Gen.Long[-2000, 2000].Select(n => Raw("ChangeValue", n.ToString()))), (2, Hostile.Odd("ChangeValue")));

    private static readonly Gen<WireField[]> BadChange = Gen.OneOf(
        Raw("ChangeValue", "1.5"), Str("ChangeValue", "abc"), Raw("ChangeValue", "true"), Raw("ChangeValue", "[]"), Raw("ChangeValue", "{}"),
        Raw("ChangeValue", "null"), Raw("ChangeValue", "1e400"), Raw("ChangeValue", "9223372036854775808"), Str("ChangeValue", ""),
        Str("ChangeValue", "1.5"), Str("ChangeValue", "0x10"), Str("ChangeValue", "\uFF11"), Str("ChangeValue", "1 000")).Select(f => new[] { f });

    /// <summary>Type and value that no balance allows (the richest member holds 1000).</summary>
    private static readonly Gen<WireField[]> BadCombination = Gen.OneOf(("P", "0"), ("S", "0"), ("R", "0"), ("C", "0"), ("E", "0"), ("E", "5"), ("Z", "5"),
        ("E", "-1001"), ("E", long.MinValue.ToString()), ("Z", "-999")).Select(c => new[] { Str("BusiType", c.Item1), Raw("ChangeValue", c.Item2) });

    /// <summary>Fields valid in form, but naming nobody or overdrawing a member who holds nothing: these reach a business rule.</summary>
    private static readonly Gen<WireField[]> BusinessPoison = Gen.Select(Gen.Bool, Gen.Long[1, 7_999_999_999], Gen.Int[1, 99999], Gen.Long[1, 2000],
            (unknown, id, bill, n) => unknown
                ? new[] { Raw("MemberId", id.ToString()), Str("BusiType", "P"), Str("BusiBillNum", $"B-{bill}"), Raw("ChangeValue", n.ToString()) }
                : [Raw("MemberId", Members[1].ToString()), Str("BusiType", "E"), Str("BusiBillNum", $"B-{bill}"), Raw("ChangeValue", (-n).ToString())])
        .SelectMany(fields => Hostile.Shuffled([.. fields.Select(f => Gen.Const<WireField?>(f))]));

    /// <summary>Point/Add fields with a poison: an unknown member, or a real one with a field no rule accepts.</summary>
    private static readonly Gen<WireField[]> PointAddFields = Gen.Frequency(
        (5, BusinessPoison),
        (3, Hostile.Shuffled(UnknownMember.Select(f => (WireField?)f), Maybe(AnyType), Maybe(AnyBill), Maybe(AnyChange))),
        (5, Gen.Select(RealMember, Gen.Frequency(
                (2, Hostile.Odd("BusiType").Where(f => !IsBusiType(f)).Select(f => new[] { f })),
                (1, Gen.Frequency((1, Gen.Const(Str("BusiBillNum", ""))), (2, Hostile.OddChar.Array[21, 80].Select(c => Str("BusiBillNum", new string(c))))).Select(f => new[] { f })),
                (2, BadChange), (2, BadCombination)),
            AnyType, AnyBill, AnyChange,
            (member, poison, type, bill, change) => new[] { member, type, bill, change }.Where(f => poison.All(p => p.Key != f.Key)).Concat(poison).ToArray())
            .SelectMany(fields => Hostile.Shuffled([.. fields.Select(f => Gen.Const<WireField?>(f))]))));

    private static readonly Gen<string?> Accept = Gen.OneOf<string?>(null, "application/json", "application/xml", "text/xml", "application/bson", "*/*",
        "text/html", "application/xml;q=0.1, application/bson", "application/json;q=0", "application/*", "garbage/;;;", "application/bson, application/xml;q=2");

    private static readonly Gen<(string, string)[]> PointsHeaders = Gen.Select(
        Gen.Frequency(
            (8, Gen.Const("Bearer " + TestCatalog.ApiKey)),
            (1, Gen.OneOf("Bearer " + TestCatalog.OtherApiKey, "Bearer " + TestCatalog.NoPointsApiKey, "bearer  " + TestCatalog.ApiKey + " ", "Basic cGs6dGVzdA==", "Bearer", "")),
            (1, Hostile.OddHeader.Select(h => "Bearer " + h))),
        Gen.Frequency((3, Gen.Const<string?>((string?)null)), (1, Gen.Int[0, 1_000_000].Select(n => (string?)$"fz-{n}")), (1, Hostile.OddHeader.Select(h => (string?)h))),
        Accept,
        (auth, key, accept) => new[] { ("Authorization", auth), ("Idempotency-Key", key!), ("Accept", accept!) }.Where(h => h.Item2 is not null).ToArray());

    private static Gen<HostileRequest> PointsRequests(string path, string root, string format, Gen<WireField[]> fields)
    {
        var (contentType, write, attack, valid) = format switch
        {
            "xml" => ("application/xml", (Func<WireField[], byte[]>)(f => Hostile.Xml(f, root)), Hostile.XmlAttack(root), Hostile.Xml(ValidBody(root), root)),
            "form" => ("application/x-www-form-urlencoded", (Func<WireField[], byte[]>)Hostile.Form, Hostile.FormAttack, Hostile.Form(ValidBody(root))),
            "bson" => ("application/bson", (Func<WireField[], byte[]>)Hostile.Bson, Hostile.BsonAttack, Hostile.Bson(ValidBody(root))),
            _ => ("application/json", (Func<WireField[], byte[]>)Hostile.Json, Hostile.JsonAttack, Hostile.Json(ValidBody(root))),
        };
        var types = Gen.Frequency((12, Gen.Const<string?>(contentType)),
            (1, Gen.OneOf<string?>(null, "text/json", "text/xml", "application/json; charset=utf-16", "application/x-www-form-urlencoded; charset=iso-8859-1",
                "application/octet-stream", "multipart/form-data; boundary=x", "application/xml", "application/bson", ";;", "application/json, text/xml")));
        var bodies = Gen.Frequency(
            (6, fields.Select(f => ("fields", write(f)))),
            (2, Hostile.Mutated(valid).Select(b => ("mutated", b))),
            (2, attack.Select(b => ("attack", b))));
        return Gen.Select(bodies, types, PointsHeaders, (body, type, headers) => new HostileRequest(path, type, body.Item2, headers, $"{format} {body.Item1}"));
    }

    // A body every format accepts, naming nobody who exists: the seed of the mutations.
    private static WireField[] ValidBody(string root) => root == "MemberValuePointAddParm"
        ? [Raw("MemberId", "3141592653"), Str("BusiType", "P"), Str("BusiBillNum", "B-1"), Raw("ChangeValue", "10")]
        : [Str("OnlyUpTo", "1"), Raw("LevelId", "64"), List("MemberList", ["3141592653", "2718281828"])];

    private async Task FuzzPointAddAsync(string format)
    {
        Assert.Equal(0, (await Partner.AddPointsAsync(Rich, "P", 1000, "seed", key: "seed-1")).Errcode);
        await FuzzAsync($"Point/Add {format}", PointsRequests(PointsWireClient.PointAdd, "MemberValuePointAddParm", format, PointAddFields),
            (r, response, body) =>
            {
                var code = CheckPointsEnvelope(r, response, body, "CommonOperationResultWithTagOfMemberValuePointAddResultZ8ov0R4d");
                Assert.NotEqual(0, code);
                return code;
            }, minBusinessShare: 0.08);
        Assert.Equal(0, (await Partner.AddPointsAsync(Rich, "P", 1, "after")).Errcode); // still works
    }

    [Fact]
    public Task PointAddInJsonRefusesHostileInput() => FuzzPointAddAsync("json");

    [Fact]
    public Task PointAddInXmlRefusesHostileInput() => FuzzPointAddAsync("xml");

    [Fact]
    public Task PointAddInFormRefusesHostileInput() => FuzzPointAddAsync("form");

    [Fact]
    public Task PointAddInBsonRefusesHostileInput() => FuzzPointAddAsync("bson");
}

/// <summary>10,000 cases per endpoint, in process, on SQLite.</summary>
public sealed class HostileInputTestsOnSqlite(ITestOutputHelper output) : HostileInputTests(Backend.Sqlite, HostileRun.Cases(10_000), output);

/// <summary>A smaller run on PostgreSQL, for what only its types and errors can show.</summary>
public sealed class HostileInputTestsOnPostgres(ITestOutputHelper output) : HostileInputTests(Backend.Postgres, HostileRun.Cases(500), output);
