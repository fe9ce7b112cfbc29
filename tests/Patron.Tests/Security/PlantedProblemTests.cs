using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using CsCheck;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>One generated request with exactly one problem planted (or none), and the SPEC §7 code it must get.</summary>
public sealed record Planted(string Problem, int Code, string? Field, Func<HostileRequest> Build)
{
    public override string ToString() => $"{Problem}: expects {Code}{(Field is null ? "" : $" naming {Field}")}";
}

/// <summary>
/// The hostile-input tests check that nothing breaks; these check that each problem gets its own
/// answer. Every generated request is valid but for one planted problem, so its code is known:
/// a service that answered 1004 (or any one code) to everything fails here. Valid requests are
/// mixed in and must succeed, and a minimum share of the cases must get past validation to a
/// business rule, so that the generators cannot drift into testing the parser alone.
/// </summary>
public abstract partial class PlantedProblemTests(Backend backend, int cases, ITestOutputHelper output) : PatronTest(backend)
{
    private const double MinBusinessShare = 0.3;
    private static readonly XNamespace ResultNs = "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer";
    private int _fresh;

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.UseSetting("RateLimit:PermitsPerSecond", "0").UseSetting("Logging:LogLevel:Default", "Warning");

    private string Fresh(string prefix) => $"{prefix}-{Interlocked.Increment(ref _fresh)}";

    /// <summary>Sends every case, checks its code (and the field a 1004 names); returns how many got each code.</summary>
    private async Task<IReadOnlyDictionary<int, int>> RunAsync(string name, Gen<Planted> gen, Func<HttpResponseMessage, byte[], (int Code, string Msg)> read)
    {
        var http = App.CreateClient();
        var codes = new ConcurrentDictionary<int, int>();
        var problems = new ConcurrentDictionary<string, int>();
        await gen.SampleAsync(async planted =>
        {
            var request = planted.Build();
            using var message = new HttpRequestMessage(HttpMethod.Post, request.Path) { Content = new ByteArrayContent(request.Body) };
            message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType!);
            foreach (var (header, value) in request.Headers)
                message.Headers.TryAddWithoutValidation(header, value);
            using var response = await http.SendAsync(message);
            var body = await response.Content.ReadAsByteArrayAsync();
            var (code, msg) = read(response, body);
            Assert.True(code == planted.Code, $"{planted}, got {code} ({msg})\n{request}");
            if (planted.Field is not null)
                Assert.True(msg.StartsWith(planted.Field + ":", StringComparison.Ordinal), $"{planted}, but the message is '{msg}'\n{request}");
            codes.AddOrUpdate(code, 1, (_, n) => n + 1);
            problems.AddOrUpdate(planted.Problem.Split(' ')[0], 1, (_, n) => n + 1);
        }, iter: cases, threads: 2, print: p => p.ToString());

        output.WriteLine($"{name}: {cases} cases; problems {string.Join(", ", problems.OrderBy(p => p.Key).Select(p => $"{p.Key}×{p.Value}"))}");
        output.WriteLine($"  codes {string.Join(", ", codes.OrderBy(c => c.Key).Select(c => $"{c.Key}×{c.Value}"))}");
        var business = codes.Where(c => c.Key is >= 2000 and < 3000).Sum(c => c.Value);
        Assert.True(business >= MinBusinessShare * cases, $"only {business} of {cases} cases reached a business rule");
        Assert.True(codes.GetValueOrDefault(0) > 0, "no valid request was mixed in");
        using var health = await App.CreateClient().GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        return codes;
    }

    // ---- the points API: one reader for all three answer formats ----

    private static (int, string) ReadPointsEnvelope(HttpResponseMessage response, byte[] body, string accept, string root)
    {
        var media = response.Content.Headers.ContentType?.MediaType;
        var (code, msg) = media switch
        {
            "application/xml" => FromXml(body, root),
            "application/bson" => BsonSerializer.Deserialize<BsonDocument>(body) is var d ? (d["errcode"].AsInt32, d["errmsg"].AsString) : default,
            _ => JsonNode.Parse(body)! is var j ? (j["errcode"]!.GetValue<int>(), j["errmsg"]!.GetValue<string>()) : default,
        };
        Assert.Equal(accept, media);
        Assert.Equal(code switch { 1001 => 401, 1004 => 400, 1005 => 403, _ => 200 }, (int)response.StatusCode);
        return (code, msg);
    }

    private static (int, string) FromXml(byte[] body, string root)
    {
        var xml = XDocument.Parse(Encoding.UTF8.GetString(body)).Root!;
        Assert.Equal(ResultNs + root, xml.Name);
        return (int.Parse(xml.Element(ResultNs + "errcode")!.Value, CultureInfo.InvariantCulture), xml.Element(ResultNs + "errmsg")!.Value);
    }

    private static readonly Gen<string> Format = Gen.OneOf("json", "xml", "form", "bson");
    private static readonly Gen<string> AcceptGen = Gen.OneOf("application/json", "application/xml", "application/bson");
    private static readonly string[] NoKey = ["", "Bearer pk_no_such_key", "Basic " + TestCatalog.ApiKey, TestCatalog.ApiKey];

    /// <summary>A request in the given format; auth null means hkl-test's key, "" no header at all.</summary>
    private static HostileRequest PointsRequest(string path, string root, string format, string accept, WireField[] fields, string? auth, string? key)
    {
        var (type, body) = format switch
        {
            "xml" => ("application/xml", Hostile.Xml(fields, root)),
            "form" => ("application/x-www-form-urlencoded", Hostile.Form(fields)),
            "bson" => ("application/bson", Hostile.Bson(fields)),
            _ => ("application/json", Hostile.Json(fields)),
        };
        var headers = new List<(string, string)> { ("Accept", accept) };
        if ((auth ?? "Bearer " + TestCatalog.ApiKey) is { Length: > 0 } authorization)
            headers.Add(("Authorization", authorization));
        if (key is not null)
            headers.Add(("Idempotency-Key", key));
        return new HostileRequest(path, type, body, headers, $"{format} accept {accept}");
    }

    // Members: 30 holds 1000 points, 31 none; valid adds go to 32 only, valid level changes to 33-35 only.
    private const long Rich = 30, Poor = 31, Sink = 32;
    private static readonly long[] LevelSinks = [33, 34, 35];

    private static WireField MemberField(long id, bool asText) => asText ? Str("MemberId", id.ToString()) : Raw("MemberId", id.ToString());

    private static WireField[] Without(WireField[] fields, string key) => [.. fields.Where(f => f.Key != key)];

    private static WireField[] With(WireField[] fields, WireField replacement) => [.. Without(fields, replacement.Key), replacement];

    /// <summary>Point/Add fields, all valid: a positive change of one of P, S, R, C.</summary>
    private static Gen<WireField[]> Earning(long member) => Gen.Select(Gen.Bool, Gen.OneOf("P", "S", "R", "C"), Gen.Int[1, 99_999], Gen.Long[1, 500],
        (asText, type, bill, change) => new[] { MemberField(member, asText), Str("BusiType", type), Str("BusiBillNum", $"B-{bill}"), Raw("ChangeValue", change.ToString()) });

    private Gen<Planted> PointAddCases()
    {
        Gen<Planted> Case(string problem, int code, string? field, Gen<WireField[]> fields, Gen<string?> auth, Func<string?> key) =>
            Gen.Select(fields, auth, Format, AcceptGen, (f, a, format, accept) => new Planted($"{problem} ({format})", code, field,
                () => PointsRequest(PointsWireClient.PointAdd, "MemberValuePointAddParm", format, accept, f, a, key())));
        var ok = Gen.Const<string?>((string?)null);
        var fromRich = Earning(Rich);
        return Gen.Frequency(
            (3, Case("valid add", 0, null, Earning(Sink), ok, () => Fresh("v"))),
            (1, Case("no-key", 1001, null, fromRich, Gen.OneOf(NoKey).Select(a => (string?)a), () => null)),
            (1, Case("no-scope", 1005, null, fromRich, Gen.Const<string?>("Bearer " + TestCatalog.NoPointsApiKey), () => null)),
            (2, Gen.OneOf("MemberId", "BusiType", "BusiBillNum", "ChangeValue").SelectMany(missing =>
                Case($"missing {missing}", 1004, missing, fromRich.Select(f => Without(f, missing)), ok, () => null))),
            (2, Gen.OneOf(Str("BusiType", "X"), Str("BusiType", "PP"), Str("BusiBillNum", new string('9', 21)),
                    Raw("ChangeValue", "1.5"), Str("ChangeValue", "abc"), Raw("ChangeValue", "true"), Raw("ChangeValue", "9223372036854775808"))
                .SelectMany(bad => Case($"invalid {bad.Key}", 1004, bad.Key, fromRich.Select(f => With(f, bad)), ok, () => null))),
            (1, Gen.OneOf(("E", "5"), ("E", "0"), ("P", "0"), ("Z", "7")).SelectMany(c => Case($"rule {c.Item1}{c.Item2}", 1004, "ChangeValue",
                fromRich.Select(f => With(With(f, Str("BusiType", c.Item1)), Raw("ChangeValue", c.Item2))), ok, () => null))),
            (1, Gen.OneOf(new string('k', 129), "has space", "ключ").SelectMany(k =>
                Case("bad-key-header", 1004, "Idempotency-Key", fromRich, ok, () => k))),
            (4, Gen.Long[1_000, 9_999_999].SelectMany(id => Case("unknown member", 2001, null,
                Earning(id), ok, () => null))),
            (4, Gen.Select(Gen.OneOf(Poor, Rich), Gen.Long[1, 1000]).SelectMany(t => Case("not-enough-points", 2201, null,
                Earning(t.Item1).Select(f => With(With(f, Str("BusiType", "E")), Raw("ChangeValue", (-(t.Item1 == Rich ? 1000 + t.Item2 : t.Item2)).ToString()))), ok, () => null))),
            (1, Case("key-reused", 1006, null, fromRich.Select(f => With(f, Str("BusiBillNum", "other-bill"))), ok, () => "seeded-1")));
    }

    private async Task PointAddAsync()
    {
        Assert.Equal(0, (await Partner.AddPointsAsync(Rich, "P", 1000, "seed", key: "seeded-1")).Errcode);
        var before = await OthersAsync(Sink);
        var sinkRows = await App.QueryAsync(db => db.PointEntries.CountAsync(p => p.MemberId == Sink));

        var codes = await RunAsync("Point/Add", PointAddCases(), (r, b) =>
            ReadPointsEnvelope(r, b, r.RequestMessage!.Headers.Accept.Single().MediaType!, "CommonOperationResultWithTagOfMemberValuePointAddResultZ8ov0R4d"));

        Assert.Equal(before, await OthersAsync(Sink));
        Assert.Equal(sinkRows + codes[0], await App.QueryAsync(db => db.PointEntries.CountAsync(p => p.MemberId == Sink)));
    }

    /// <summary>Every member, ledger row and log line but those of the given members: what a refused request must leave alone.</summary>
    private Task<string> OthersAsync(params long[] sinks) => App.QueryAsync(async db => System.Text.Json.JsonSerializer.Serialize(new
    {
        Members = await db.Members.AsNoTracking().Where(m => !sinks.Contains(m.Id)).OrderBy(m => m.Id).ToListAsync(),
        Ledger = await db.PointEntries.AsNoTracking().Where(p => !sinks.Contains(p.MemberId)).OrderBy(p => p.AutoId).ToListAsync(),
        Log = await db.MemberLogs.AsNoTracking().Where(l => !sinks.Contains(l.MemberId)).OrderBy(l => l.Id).ToListAsync(),
        Cards = await CardStateAsync(),
    }));

    [Fact]
    public Task EachPlantedProblemInAPointAddGetsItsOwnCode() => PointAddAsync();

    private Gen<Planted> LevelSetCases()
    {
        var valid = Gen.Select(Gen.OneOf("0", "1", "2"), Gen.OneOf("1", "64"), Gen.Int[1, 3], Gen.Bool,
            (onlyUpTo, level, n, levelAsText) => new[] { Str("OnlyUpTo", onlyUpTo), levelAsText ? Str("LevelId", level) : Raw("LevelId", level),
                List("MemberList", [.. LevelSinks.Take(n).Select(id => id.ToString())]) });
        Gen<Planted> Case(string problem, int code, string? field, Gen<WireField[]> fields, string? auth = null) =>
            Gen.Select(fields, Format, AcceptGen, (f, format, accept) => new Planted($"{problem} ({format})", code, field,
                () => PointsRequest(PointsWireClient.LevelSet, "MemberLevelSetParm", format, accept, f, auth, null)));
        return Gen.Frequency(
            (2, Case("valid set", 0, null, valid)),
            (1, Gen.OneOf(NoKey).SelectMany(a => Case("no-key", 1001, null, valid, a))),
            (1, Case("no-scope", 1005, null, valid, "Bearer " + TestCatalog.NoPointsApiKey)),
            (1, Gen.OneOf("LevelId", "MemberList").SelectMany(missing => Case($"missing {missing}", 1004, missing, valid.Select(f => Without(f, missing))))),
            (2, Gen.OneOf(Raw("LevelId", "7"), Raw("LevelId", "256"), Raw("LevelId", "-1"), Str("LevelId", "abc"), Raw("LevelId", "1.5"),
                    List("MemberList", []), List("MemberList", ["\"x\""]))
                .SelectMany(bad => Case($"invalid {bad.Key}", 1004, bad.Key, valid.Select(f => With(f, bad))))),
            (5, Gen.Long[1_000, 9_999_999].Array[1, 3].SelectMany(unknown => Case("unknown member", 2001, null,
                valid.Select(f => With(f, List("MemberList", [.. f.Single(x => x.Key == "MemberList").Items!, .. unknown.Select(u => u.ToString())])))))));
    }

    [Fact]
    public async Task EachPlantedProblemInALevelSetGetsItsOwnCode()
    {
        var before = await OthersAsync(LevelSinks);

        await RunAsync("Level/Set", LevelSetCases(), (r, b) => ReadPointsEnvelope(r, b, r.RequestMessage!.Headers.Accept.Single().MediaType!, "CommonOperationResult"));

        Assert.Equal(before, await OthersAsync(LevelSinks));
    }
}

/// <summary>2,000 cases per endpoint on SQLite.</summary>
public sealed class PlantedProblemTestsOnSqlite(ITestOutputHelper output) : PlantedProblemTests(Backend.Sqlite, 2_000, output);

/// <summary>Fewer on PostgreSQL, for what only its types and errors can show.</summary>
public sealed class PlantedProblemTestsOnPostgres(ITestOutputHelper output) : PlantedProblemTests(Backend.Postgres, 1_000, output);
