using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>
/// Property-based hostile input against every /api/v1 route that takes input: JSON bodies built
/// field by field around a poison, byte-mutated and random bodies, wrong types and content types,
/// hostile route values, query strings and headers. Every call to a write is built to fail (a
/// poison in the body, or a route naming nothing), so the properties stay simple: no 5xx, an
/// answer within 15 s, a ProblemDetails with the answer's status (a read may also succeed, and is
/// counted), every table unchanged, and afterwards /health 200 and a normal call that works.
/// </summary>
public abstract partial class NativeApiHostileInputTests(HostileHost host, int cases, ITestOutputHelper output)
{
    private const string Api = "/api/v1";
    private const long Rich = 1; // holds 1000 points; the others none, or the few of a normal adjustment

    private PatronApp App => host.App;

    private HttpClient OperatorClient()
    {
        var client = App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestCatalog.AdminToken);
        return client;
    }

    // ---- the properties ----

    /// <summary>Points, a sale and a use, and an operator's change in the audit log: something for every read to find. Once per host.</summary>
    private async Task<bool> SeedAsync()
    {
        var points = App.CreateClient();
        points.DefaultRequestHeaders.Authorization = new("Bearer", TestCatalog.ApiKey);
        Assert.Equal(0, (await points.AddPointsAsync(Rich, "P", 1000, "seed")).Errcode);
        var partner = new OpenApiClient(App.CreateClient());
        var shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
        string Local(DateTimeOffset t) => TimeZoneInfo.ConvertTime(t, shanghai).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var sale = await partner.SellAsync("FZ-SALE-1", Local(TestWorld.Clock.GetUtcNow().AddHours(-2)));
        Assert.Equal(0, sale.Code);
        Assert.Equal(0, (await partner.UseAsync(sale.Data!["id"]!.GetValue<string>(), "FZ-USE-1", Local(TestWorld.Clock.GetUtcNow().AddHours(-1)))).Code);
        using var created = await OperatorClient().PostAsync($"{Api}/members", Json("""{"name":"种子会员","phone":"13900000000"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return true;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <param name="normal">A valid call of the same route, made after the run: it must still succeed (and must not hinder the class's other tests, which share the host).</param>
    private async Task FuzzAsync(string name, Gen<HostileCall> gen, Func<HostileCall, HostileAnswer, string> check,
        (HttpMethod Method, string Path, string? Body)? normal = null)
    {
        await host.SeedOnceAsync(SeedAsync);
        var before = await HostileSnapshot.TakeAsync(App);
        var http = CookieSession.Client(App);

        await HostileRun.SampleAsync(output, name, cases, gen, http, (call, answer) =>
        {
            AssertCallerDecides(call, answer);
            return check(call, answer);
        });

        Assert.Equal(before, await HostileSnapshot.TakeAsync(App));
        using var health = await http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var (method, path, body) = normal ?? (HttpMethod.Get, $"{Api}/members/{Rich}", null);
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
        using var still = await OperatorClient().SendAsync(request);
        Assert.True(still.IsSuccessStatusCode, $"{method} {path} after the run: {(int)still.StatusCode} {await still.Content.ReadAsStringAsync()}");
    }

    /// <summary>The native API's error: application/problem+json whose status is the answer's; plain text only for a bare status when JSON was not acceptable.</summary>
    private static string Problem(HostileCall call, HostileAnswer answer)
    {
        Assert.InRange(answer.Code, 400, 499);
        if (answer.MediaType == "text/plain" && !call.AcceptsJson)
        {
            Assert.StartsWith($"Status Code: {answer.Code}", answer.Text);
            return $"{answer.Code} text";
        }
        Assert.True(answer.MediaType == "application/problem+json", $"{answer.Code} as {answer.MediaType}: {answer.Text}");
        var problem = JsonNode.Parse(answer.Body)!.AsObject();
        Assert.Equal(answer.Code, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["title"]?.GetValue<string>()));
        return answer.Code.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Whoever calls is checked before anything they send, so a planted caller problem alone decides
    /// the status: a bad or missing token 401, a viewer's write 403, a method the route lacks 405,
    /// a session's cookie without its anti-forgery token 400. Only routing comes first: a path that
    /// matches no route (404), or only one of another method (405), or a body type no endpoint
    /// accepts (415) is refused before the caller is known.
    /// </summary>
    private static void AssertCallerDecides(HostileCall call, HostileAnswer answer)
    {
        var words = call.Note.Split(' ');
        int? expected = (words[0], words[^1]) switch
        {
            ("bad-token" or "anonymous" or "forged-cookie", _) or (_, "bad-auth") => 401,
            ("viewer", _) => 403,
            (_, "viewer") when call.Method != "GET" => 403,
            ("wrong-method", _) => 405,
            ("cookie-without-token", _) => 400,
            _ => null,
        };
        if (expected is { } status && !(answer.Code is 404 or 405 or 415 && words[0] is not ("bad-token" or "anonymous" or "forged-cookie" or "viewer" or "wrong-method" or "cookie-without-token")))
            Assert.True(answer.Code == status, $"{call.Note}: expected {status}, got {answer.Code} {answer.Text}");
    }

    private static string Refused(HostileCall call, HostileAnswer answer)
    {
        Assert.True(answer.Code >= 400, $"a write succeeded: {answer.Code} {answer.Text}");
        return Problem(call, answer);
    }

    /// <summary>A read: its answer in the given media type, or a problem.</summary>
    private static Func<HostileCall, HostileAnswer, string> Answered(string mediaType = "application/json") => (call, answer) =>
    {
        if (answer.Code >= 400)
            return Problem(call, answer);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(mediaType, answer.MediaType);
        if (mediaType == "application/json")
            JsonNode.Parse(answer.Body);
        return "200";
    };

    // ---- headers and bodies of any call ----

    private sealed record HeaderSet((string, string)[] Headers, bool AcceptsJson, string Note);

    private static string[] BadAuth =>
    [
        "", "Bearer", "Bearer ", "Bearer pat_", $"Bearer {TestCatalog.AdminToken[..^1]}", $"Bearer {TestCatalog.AdminToken}x", $"Bearer {TestCatalog.AdminToken.ToUpperInvariant()}",
        $"Bearer {TestCatalog.ApiKey}", "Basic YWRtaW46Y2hhbmdlLW1l", $"Token {TestCatalog.AdminToken}", $"Bearer{TestCatalog.AdminToken}",
        $"Bearer pat_{new string('k', 9000)}", $"Bearer {TestCatalog.AdminToken}, Bearer {TestCatalog.AdminToken}", "Bearer pat_\u00e9\u00e8",
    ];

    private static readonly Gen<(string Value, string Note)> AnyAuth = Gen.Frequency(
        (14, Gen.Const(("Bearer " + TestCatalog.AdminToken, "admin"))),
        (1, Gen.OneOf($"bearer   {TestCatalog.AdminToken}  ", $"BEARER {TestCatalog.AdminToken}").Select(a => (a, "admin"))),
        (1, Gen.Const(("Bearer " + TestCatalog.ViewerToken, "viewer"))),
        (1, Gen.Frequency((3, Gen.OneOf(BadAuth)), (1, Hostile.OddHeader.Select(h => "Bearer pat_" + h))).Select(a => (a, "bad-auth"))));

    private static readonly Gen<(string? Value, bool Json)> Accept = Gen.Frequency(
        (12, Gen.Const<(string?, bool)>((null, true))),
        (3, Gen.Const<(string?, bool)>(("application/json", true))),
        (2, Gen.OneOf<(string?, bool)>(("*/*", true), ("application/problem+json", true), ("application/*", true), ("text/html", false), ("application/xml", false),
            ("text/csv", false), ("garbage/;;;", false), ("application/json;q=0", false), ("", false), ("*/*;q=abc", false))));

    private static readonly Gen<(string, string)[]> ExtraHeaders = Gen.Frequency(
        (10, Gen.Const(Array.Empty<(string, string)>())),
        (1, Gen.Select(Gen.OneOf("X-CSRF-TOKEN", "X-HTTP-Method-Override", "X-Forwarded-For", "Accept-Language", "Content-Encoding", "Expect", "Origin"),
            Hostile.OddHeader, (name, value) => new[] { (name, value) })),
        (1, Gen.Select(Gen.OneOf("patron.operator", ".AspNetCore.Culture", ".AspNetCore.Antiforgery.x"), Hostile.OddHeader,
            (name, value) => new[] { ("Cookie", $"{name}={value}") })),
        (1, Gen.OneOf("c=xx|uic=yy", "c=zh-CN", "c=|uic=", "c=en%00|uic=en", "c=" + new string('a', 500)).Select(c => new[] { ("Cookie", ".AspNetCore.Culture=" + c) })));

    private static Gen<HeaderSet> Headers(Gen<(string Value, string Note)> auth) => Gen.Select(auth, Accept, ExtraHeaders, (a, accept, extra) =>
    {
        var headers = new List<(string, string)> { ("Authorization", a.Value) };
        if (accept.Value is not null)
            headers.Add(("Accept", accept.Value));
        headers.AddRange(extra);
        return new HeaderSet([.. headers], accept.Json, a.Note);
    });

    private static readonly Gen<string?> JsonType = Gen.Frequency(
        (14, Gen.Const<string?>("application/json")),
        (1, Gen.OneOf<string?>("application/json; charset=utf-8", "application/problem+json", "application/vnd.patron+json", "text/json", "application/json; charset=utf-16",
            "application/json; charset=latin1", "application/json; charset=bogus", "application/json; charset=\"\"", "application/json; charset=utf-7", null, "text/plain",
            "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", ";;", "application/json, text/xml", "application/bson", "*/*")));

    /// <summary>Calls of one route with a body; the note says how the body was made, what the route names, and who calls.</summary>
    private static Gen<HostileCall> Calls(string method, string route, Gen<string> paths, Gen<(string Kind, byte[]? Body)> bodies, Gen<(string, string)>? auth = null) =>
        Gen.Select(paths, bodies, JsonType, Headers(auth ?? AnyAuth), (path, body, type, h) =>
            new HostileCall(method, Api + path, body.Body is null ? null : type, body.Body, h.Headers, $"{body.Kind} {route} {h.Note}") { AcceptsJson = h.AcceptsJson });

    /// <summary>Reads: no body, or now and then one nobody asked for.</summary>
    private static Gen<HostileCall> Reads(string route, Gen<string> paths) => Calls("GET", route, paths, Gen.Frequency(
        (12, Gen.Const<(string, byte[]?)>(("read", null))), (1, Hostile.JsonAttack.Select(b => ("read+body", (byte[]?)b)))));

    /// <summary>Bodies around a poison, byte mutations of a seed that no mutation of up to 8 edits can make valid, and random JSON.</summary>
    private static Gen<(string Kind, byte[]? Body)> Bodies(Gen<WireField[]> fields, byte[] seed, bool randomObjects = true) => Gen.Frequency(
        (6, fields.Select(f => ("fields", (byte[]?)Hostile.Json(f)))),
        (2, Hostile.Mutated(seed).Select(b => ("mutated", (byte[]?)b))),
        (2, (randomObjects ? Hostile.JsonAttack : Hostile.JsonAttack.Where(b => !IsObject(b))).Select(b => ("attack", (byte[]?)b))));

    /// <summary>Whether a body could be read as a JSON object (after a byte-order mark and white space).</summary>
    private static bool IsObject(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        return text.StartsWith('{');
    }

    /// <summary>Text of a length between min and max that trimming cannot shorten.</summary>
    private static Gen<string> LongText(int min, int max) => Hostile.OddChar.Array[min, max].Select(c => "x" + new string(c) + "x");

    private static Gen<WireField> Either(string key, Gen<string> valid) => Gen.Frequency((3, valid.Select(v => Str(key, v))), (1, Hostile.Odd(key)));

    private static Gen<WireField> EitherRaw(string key, Gen<string> valid) => Gen.Frequency((3, valid.Select(v => Raw(key, v))), (1, Hostile.Odd(key)));

    private static Gen<WireField?> Maybe(Gen<WireField> gen) => Gen.Frequency((3, gen.Select(f => (WireField?)f)), (1, Gen.Const<WireField?>((WireField?)null)));

    /// <summary>A JSON token that a string field cannot take.</summary>
    private static Gen<WireField> NotAString(string key) => Gen.OneOf("1", "-1.5", "true", "[]", "{}", "[\"x\"]", "{\"a\":\"b\"}", "1e400").Select(v => Raw(key, v));

    /// <summary>A JSON token that an integer field cannot take (web defaults read numbers from strings, so no numeric strings here).</summary>
    private static Gen<WireField> NotAnInteger(string key) => Gen.OneOf("true", "\"abc\"", "1.5", "\"1.5\"", "1e400", "9223372036854775808", "-9223372036854775809",
        "[]", "{}", "\"\"", "\"0x10\"", "\"1e3\"", "[1]", "\"\\uFF11\"").Select(v => Raw(key, v));

    /// <summary>Fields with a poison, shuffled, with junk fields and case-variant duplicates of the same value.</summary>
    private static Gen<WireField[]> WithPoison(Gen<WireField?>[] fields, Gen<WireField[]> poison) =>
        Gen.Select(Combine(fields), poison, (values, p) =>
            values.Where(f => f is not null && p.All(x => !string.Equals(x.Key, f.Key, StringComparison.OrdinalIgnoreCase))).Select(f => f!).Concat(p).ToArray())
        .SelectMany(all => Hostile.Shuffled([.. all.Select(f => Gen.Const<WireField?>(f))]));

    private static Gen<T[]> Combine<T>(Gen<T>[] gens) => gens.Aggregate(Gen.Const(Array.Empty<T>()), (acc, g) => Gen.Select(acc, g, (a, v) => (T[])[.. a, v]));

    private static Gen<WireField[]> One(params Gen<WireField>[] poisons) => Gen.OneOf(poisons).Select(f => new[] { f });

    // ---- route values ----

    /// <summary>Members 1 to 40 and the one the seed added; a segment naming none of them, a number or not.</summary>
    private static Gen<long> RealMember => Gen.Long[1, TestCatalog.MemberCount + 1];

    private static bool NamesAMember(string segment) =>
        long.TryParse(HostileUrl.Decode(segment), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 0 and < 1000;

    private static Gen<string> UnknownMember => Gen.Frequency(
        (3, Gen.Long[1000, long.MaxValue].Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Long[long.MinValue, -1].Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (2, HostileUrl.Segment(Hostile.OddString))).Where(s => !NamesAMember(s));

    private static Gen<string> AnyMember => Gen.Frequency((3, RealMember.Select(id => id.ToString(CultureInfo.InvariantCulture))), (2, UnknownMember));

    /// <summary>A segment naming none of the given records, close to one or not at all.</summary>
    private static Gen<string> UnknownName(string[] real) => Gen.Frequency(
        (3, HostileUrl.Segment(Hostile.OddString)),
        (1, Gen.Select(Gen.OneOf(real), Gen.OneOf<Func<string, string>>(s => s + " ", s => " " + s, s => s.ToLowerInvariant(), s => s[..^1], s => s + "\t",
            s => s.Replace('0', '\uFF10'), s => s + "/", s => s + "\u200B"), (s, f) => HostileUrl.Escape(f(s)))))
        .Where(s => !real.Contains(HostileUrl.Decode(s)) && !real.Contains(HostileUrl.Decode(s).TrimEnd('/')));

    // ---- credentials: every route, with a body that would succeed ----

    private const string ValidCardBody = """{"id":"L-NEW","name":"新卡","price":19.90,"validDays":60,"onSale":true,"products":[{"id":"P-1","name":"面","totalUsedNum":4,"cycleDays":7,"cycleNum":1}]}""";

    private static readonly (string Method, string Path, string? Body)[] Routes =
    [
        ("GET", "/antiforgery", null), ("GET", "/operators", null), ("POST", "/operators", """{"user":"fz-new","password":"a-good-password","role":"admin"}"""),
        ("POST", "/operators/me/token", null), ("GET", "/audit", null),
        ("GET", "/members?q=M0001", null), ("GET", "/members/1", null), ("POST", "/members", """{"name":"fz"}"""), ("PUT", "/members/1", """{"name":"fz"}"""),
        ("GET", "/members/1/points", null), ("GET", "/members/1/points.csv", null), ("POST", "/members/1/points", """{"busiType":"P","changeValue":5}"""),
        ("GET", "/members/1/cards", null), ("GET", "/levels", null), ("PUT", "/levels/32", """{"name":"银卡会员","threshold":500}"""),
        ("GET", "/cards", null), ("POST", "/cards", ValidCardBody), ("PUT", $"/cards/{TestCatalog.Card}", ValidCardBody.Replace("L-NEW", TestCatalog.Card)),
        ("POST", $"/cards/{TestCatalog.Card}/off-sale", null),
        ("GET", "/sales", null), ("GET", "/sales.csv", null), ("GET", "/sales/FZ-SALE-1", null), ("GET", "/uses", null),
        ("GET", "/channels", null), ("POST", "/channels", """{"name":"fz-new","scopes":["card.sale"]}"""), ("PUT", "/channels/other", """{"scopes":["points.add","card.sale"]}"""),
        ("POST", "/channels/other/rotate", null), ("GET", "/dashboard", null), .. CardActionRoutes, .. WebhookRoutes,
    ];

    /// <summary>
    /// Each route with what would succeed but for the caller: no or a bad token, a forged cookie, a
    /// viewer changing the chain's data, a real session's cookie without its anti-forgery token, or
    /// a method the route does not have. The token renewal, whose only input is the caller, is here.
    /// </summary>
    [Fact]
    public async Task EveryRouteRefusesHostileCredentials()
    {
        var session = await CookieSession.StartAsync(App, TestCatalog.AdminUser, TestCatalog.AdminPassword);
        var other = await CookieSession.StartAsync(App, TestCatalog.AdminUser, TestCatalog.AdminPassword);
        var admin = ("Authorization", "Bearer " + TestCatalog.AdminToken);
        Gen<(string Method, (string, string)[] Headers, string Note)> Credentials((string Method, string Path, string? Body) route) => Gen.Frequency(
            (4, Gen.Frequency((3, Gen.OneOf(BadAuth)), (1, Hostile.OddHeader.Select(h => "Bearer pat_" + h))).Select(a => (route.Method, new[] { ("Authorization", a) }, "bad-token"))),
            (1, Gen.Const((route.Method, Array.Empty<(string, string)>(), "anonymous"))),
            (1, Hostile.OddHeader.Select(h => (route.Method, new[] { ("Cookie", "patron.operator=" + h) }, "forged-cookie"))),
            (route.Method == "GET" ? 0 : 2, Gen.OneOf<string?>(null, "", other.FormToken, session.FormToken[..^4], "x").Select(token => (route.Method,
                token is null ? new[] { ("Cookie", session.Cookie) } : [("Cookie", session.Cookie), ("X-CSRF-TOKEN", token)], "cookie-without-token"))),
            (route.Method == "GET" || route.Path.EndsWith("/me/token") ? 0 : 2, Gen.Const((route.Method, new[] { ("Authorization", "Bearer " + TestCatalog.ViewerToken) }, "viewer"))),
            (2, Gen.OneOf("DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "FZ").Select(m => (m, new[] { admin }, "wrong-method"))));
        var gen = Gen.OneOf(Routes).SelectMany(route => Credentials(route).Select(c => new HostileCall(c.Method, Api + route.Path, route.Body is null ? null : "application/json",
            route.Body is null ? null : Encoding.UTF8.GetBytes(route.Body), c.Headers, $"{c.Note} {route.Method}")));
        await FuzzAsync("every route, hostile credentials", gen, Refused); // a token renewal afterwards would lock the other tests out
    }
}

/// <summary>1,000 cases per route, in process, on SQLite; PATRON_HOSTILE_CASES=10000 for the long run.</summary>
public sealed class NativeApiHostileInputTestsOnSqlite(SqliteHostileHost host, ITestOutputHelper output)
    : NativeApiHostileInputTests(host, HostileRun.Cases(1_000), output), IClassFixture<SqliteHostileHost>;

/// <summary>A smaller run on PostgreSQL, for what only its types and errors can show.</summary>
public sealed class NativeApiHostileInputTestsOnPostgres(PostgresHostileHost host, ITestOutputHelper output)
    : NativeApiHostileInputTests(host, 300, output), IClassFixture<PostgresHostileHost>;
