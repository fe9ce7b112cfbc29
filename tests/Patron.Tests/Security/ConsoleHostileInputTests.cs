using System.Globalization;
using System.Net;
using System.Text;
using CsCheck;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>
/// Property-based hostile input against the web console: every form, signed in through the sign-in
/// form with its cookie and anti-forgery token, and every page that reads a query. Form fields
/// built around a poison, byte-mutated and random bodies, wrong content types, hostile route and
/// query values, and now and then the wrong session or token. Every post is built to fail, so:
/// no 5xx, an answer within 15 s, the page again with its error (or a 400, a 404, a redirect to
/// sign-in or to "not allowed"; never an exception page), every table unchanged, and afterwards
/// /health 200 and a normal sign-in.
/// </summary>
public abstract partial class ConsoleHostileInputTests(HostileHost host, int cases, ITestOutputHelper output)
{
    private const string Token = "__RequestVerificationToken";

    private PatronApp App => host.App;

    /// <summary>Who posts: an admin's, a viewer's, an anonymous and another admin's session, each a cookie and a form token.</summary>
    private sealed record Sessions(CookieSession Admin, CookieSession Viewer, CookieSession Anonymous, CookieSession OtherAdmin);

    private async Task<Sessions> SeedAsync()
    {
        var partner = App.CreateClient();
        partner.DefaultRequestHeaders.Authorization = new("Bearer", TestCatalog.ApiKey);
        Assert.Equal(0, (await partner.AddPointsAsync(1, "P", 1000, "seed")).Errcode);
        return new Sessions(
            await CookieSession.StartAsync(App, TestCatalog.AdminUser, TestCatalog.AdminPassword),
            await CookieSession.StartAsync(App, TestCatalog.ViewerUser, TestCatalog.ViewerPassword),
            await CookieSession.StartAsync(App),
            await CookieSession.StartAsync(App, TestCatalog.AdminUser, TestCatalog.AdminPassword));
    }

    /// <param name="signInCounters">False for the sign-in form, whose failures are meant to count.</param>
    private async Task FuzzAsync(string name, Func<Sessions, Gen<HostileCall>> gen, Func<HostileCall, HostileAnswer, string> check, bool signInCounters = true)
    {
        var sessions = await host.SeedOnceAsync(SeedAsync);
        var before = await HostileSnapshot.TakeAsync(App, signInCounters);
        var http = CookieSession.Client(App);

        await HostileRun.SampleAsync(output, name, cases, gen(sessions), http, check);

        Assert.Equal(before, await HostileSnapshot.TakeAsync(App, signInCounters));
        using var health = await http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        await CookieSession.StartAsync(App, TestCatalog.AdminUser, TestCatalog.AdminPassword); // still signs in
    }

    // ---- what every answer must be ----

    private static string Who(HostileCall call) => call.Note.Split(' ')[2];

    /// <summary>
    /// On this site: the test server's own origin (where the sign-in challenge sends), or a path that
    /// is not //host or /\host and has no control character that a browser would drop to make one.
    /// </summary>
    private static string? LocalPath(Uri? location) => location switch
    {
        { IsAbsoluteUri: true } when location.GetLeftPart(UriPartial.Authority) == "http://localhost" => location.AbsolutePath,
        { IsAbsoluteUri: false, OriginalString: ['/'] or ['/', not ('/' or '\\'), ..] } when !location.OriginalString.Any(char.IsControl) => location.OriginalString.Split('?')[0],
        _ => null,
    };

    private static string Redirect(HostileAnswer answer, params string[] allowed)
    {
        var path = LocalPath(answer.Location);
        Assert.True(path is not null, $"{answer.Code}, a redirect off the site: {answer.Location}");
        Assert.True(allowed.Length == 0 || allowed.Contains(path), $"a redirect to {answer.Location}");
        return $"302 {path}";
    }

    private static string Html(HostileAnswer answer, string? marker = null)
    {
        Assert.Equal("text/html", answer.MediaType);
        Assert.Contains("</html>", answer.Text);
        if (marker is not null)
            Assert.True(answer.Text.Contains(marker), $"200 without {marker}: the change went through?");
        return marker is null ? "200" : "200 error";
    }

    /// <summary>
    /// A post that must fail: the page again with its error, or for the wrong session a redirect
    /// to sign-in or to "not allowed", for a wrong token a 400, for an unknown record a 404.
    /// </summary>
    private static Func<HostileCall, HostileAnswer, string> Refused(string marker = "class=\"error\"", params string[] redirects) => (call, answer) => Who(call) switch
    {
        _ when answer.Code == 404 => "404", // the path names no page, or no record: decided before the session or the token
        "viewer" => answer.Code == 400 ? "400" : Redirect(answer, "/console/denied"), // a form it cannot read is refused before the role is checked
        "anonymous" or "forged" or "no-cookie" => Redirect(answer, "/console/login"),
        "no-token" or "foreign-token" or "bad-token" => answer.Code == 400 ? "400" : throw new Xunit.Sdk.XunitException($"{answer.Code} for a post without its token"),
        _ => answer.Code switch
        {
            200 => Html(answer, marker),
            302 when redirects.Length > 0 => Redirect(answer, redirects),
            400 or 405 or 415 => answer.Code.ToString(CultureInfo.InvariantCulture),
            _ => throw new Xunit.Sdk.XunitException($"{answer.Code}: {answer.Text}"),
        },
    };

    /// <summary>A page read: the page, a 404 for what does not exist, a 400, or sign-in for no session.</summary>
    private static string Read(HostileCall call, HostileAnswer answer) => answer.Code switch
    {
        200 => Html(answer),
        302 => Redirect(answer, "/console/login"),
        400 or 404 => answer.Code.ToString(CultureInfo.InvariantCulture),
        _ => throw new Xunit.Sdk.XunitException($"{answer.Code}: {answer.Text}"),
    };

    // ---- sessions, tokens and bodies ----

    private sealed record Caller(string Cookie, string? FormToken, string Note);

    /// <summary>Mostly the admin with the form's token; now and then a viewer, no session, a forged cookie, or the wrong token.</summary>
    private static Gen<Caller> Callers(Sessions s) => Gen.Frequency((14, Gen.Const(new Caller(s.Admin.Cookie, s.Admin.FormToken, "admin"))), (4, WrongCallers(s, viewer: true)));

    /// <summary>A viewer (unless a viewer may post the form), no session, a forged cookie, or the admin's cookie with the wrong token.</summary>
    private static Gen<Caller> WrongCallers(Sessions s, bool viewer) => Gen.Frequency(
        (viewer ? 1 : 0, Gen.Const(new Caller(s.Viewer.Cookie, s.Viewer.FormToken, "viewer"))),
        (1, Gen.OneOf(
            new Caller(s.Anonymous.Cookie, s.Anonymous.FormToken, "anonymous"), new Caller("", null, "no-cookie"),
            new Caller(s.Admin.Cookie, null, "no-token"), new Caller(s.Admin.Cookie, s.OtherAdmin.FormToken, "foreign-token"),
            new Caller(s.Admin.Cookie, s.Viewer.FormToken, "foreign-token"), new Caller(s.Admin.Cookie, s.Admin.FormToken[..^4], "bad-token"),
            new Caller(s.Admin.Cookie, "", "bad-token"))),
        (1, Hostile.OddHeader.Select(h => new Caller($"patron.operator={h}", s.Admin.FormToken, "forged"))),
        (1, Hostile.OddString.Select(t => new Caller(s.Admin.Cookie, t, "bad-token"))));

    private static readonly Gen<string> FormType = Gen.Frequency(
        (14, Gen.Const("application/x-www-form-urlencoded")),
        (1, Gen.OneOf("application/x-www-form-urlencoded; charset=utf-8", "application/x-www-form-urlencoded; charset=bogus", "application/x-www-form-urlencoded; charset=utf-16",
            "application/json", "text/plain", "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=" + new string('b', 200), ";;", "")));

    private static byte[] FormBody(IEnumerable<WireField> fields, string? token) =>
        Hostile.Form(token is null ? fields : fields.Append(Str(Token, token)));

    /// <summary>The same fields as multipart/form-data, a form's other encoding.</summary>
    private static (string Type, byte[] Body) Multipart(IEnumerable<WireField> fields, string? token)
    {
        const string boundary = "fz-boundary-0123";
        var body = new StringBuilder();
        foreach (var f in token is null ? fields : fields.Append(Str(Token, token)))
            foreach (var value in f.Items?.Select(WireField.TextOf) ?? [f.Text])
                body.Append($"--{boundary}\r\nContent-Disposition: form-data; name=\"{f.Key.Replace("\"", "")}\"\r\n\r\n{HostileUrl.Utf8Safe(value)}\r\n");
        return ($"multipart/form-data; boundary={boundary}", Encoding.UTF8.GetBytes(body.Append($"--{boundary}--\r\n").ToString()));
    }

    /// <summary>
    /// Posts to a form: fields around a poison (urlencoded, sometimes multipart), mutations of a
    /// seed no mutation repairs, and random form bodies; each with a caller, and a path naming its record.
    /// </summary>
    private static Gen<HostileCall> Posts(Sessions s, string target, Gen<string> paths, Gen<WireField[]> fields, Func<string?, byte[]> seed,
        Gen<Caller>? callers = null) =>
        Gen.Select(paths, callers ?? Callers(s), FormType, Gen.Frequency(
                (7, fields.Select(f => ("fields", f))), (2, Gen.Const(("mutated", Array.Empty<WireField>()))), (1, Gen.Const(("attack", Array.Empty<WireField>())))),
            Gen.Int[0, int.MaxValue], Gen.Int[0, 9],
            (path, caller, type, body, seedNo, multipart) =>
            {
                var random = new Random(seedNo);
                var (contentType, bytes) = body.Item1 switch
                {
                    "fields" when multipart == 0 => Multipart(body.Item2, caller.FormToken),
                    "fields" => (type, FormBody(body.Item2, caller.FormToken)),
                    "mutated" => (type, Hostile.Mutate(seed(caller.FormToken), 1 + random.Next(8), seedNo)),
                    _ => (type, RandomForm(random)),
                };
                var headers = caller.Cookie.Length == 0 ? [] : new[] { ("Cookie", caller.Cookie) };
                return new HostileCall("POST", path, contentType, bytes, headers, $"{body.Item1} {target} {caller.Note}");
            });

    /// <summary>Form bodies nobody would write: broken escapes, thousands of pairs, a list past the binder's limits, raw bytes.</summary>
    private static byte[] RandomForm(Random random) => random.Next(6) switch
    {
        0 => Encoding.UTF8.GetBytes(string.Join("&", Enumerable.Range(0, random.Next(1000, 6000)).Select(i => $"k{i}={i}"))),
        1 => Encoding.UTF8.GetBytes(string.Join("&", Enumerable.Range(0, random.Next(1000, 3000)).Select(i => $"Form.Products[{i}].Id=P{i}"))),
        2 => Encoding.UTF8.GetBytes(string.Join("&", Enumerable.Range(0, random.Next(500, 2000)).Select(i => $"scopes=card.sale&Form.Products.index={i}"))),
        3 => Encoding.UTF8.GetBytes(new[] { "%", "%Z", "a=%C0%80", "a=%ED%A0%80", "&&&", "=x", "==", "Form.Id", "Form[0]=1", "Form.Products[-1].Id=x", "Form.Products[2147483648].Id=x",
            "Form.Products[0][0].Id=x", string.Concat(Enumerable.Repeat("Form.", 200)) + "Id=x", "name=%00", "user[]=a&user[]=b" }[random.Next(15)]),
        _ => [.. Enumerable.Range(0, random.Next(0, 200)).Select(_ => (byte)random.Next(256))],
    };

    /// <summary>Text of a length between min and max that trimming cannot shorten.</summary>
    private static Gen<string> LongText(int min, int max) => Hostile.OddChar.Array[min, max].Select(c => "x" + new string(c) + "x");

    private static Gen<WireField> Either(string key, Gen<string> valid) => Gen.Frequency((3, valid.Select(v => Str(key, v))), (1, Hostile.Odd(key)));

    /// <summary>Fields with a poison in place of its own, shuffled, with junk fields and case-variant duplicates.</summary>
    private static Gen<WireField[]> WithPoison(Gen<WireField>[] fields, Gen<WireField[]> poison) =>
        Gen.Select(fields.Aggregate(Gen.Const(Array.Empty<WireField>()), (acc, g) => Gen.Select(acc, g, (a, v) => (WireField[])[.. a, v])), poison,
            (values, p) => values.Where(f => p.All(x => !string.Equals(x.Key, f.Key, StringComparison.OrdinalIgnoreCase))).Concat(p).ToArray())
        .SelectMany(all => Hostile.Shuffled([.. all.Select(f => Gen.Const<WireField?>(f))]));

    private static Gen<WireField[]> One(params Gen<WireField>[] poisons) => Gen.OneOf(poisons).Select(f => new[] { f });

    private static Func<string?, byte[]> Seed(string fields) => token => Encoding.UTF8.GetBytes(token is null ? fields : $"{fields}&{Token}={Uri.EscapeDataString(token)}");

    private static readonly Gen<long> RealMember = Gen.Long[1, TestCatalog.MemberCount];

    /// <summary>
    /// A member id segment naming nobody: a large or negative number, or not a number (the route does
    /// not match). Never empty or dots, which would make the path another page's, one that creates.
    /// </summary>
    private static Gen<string> UnknownMember => Gen.Frequency(
        (3, Gen.Long[1000, long.MaxValue].Select(n => n.ToString(CultureInfo.InvariantCulture))), (1, Gen.Long[long.MinValue, -1].Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (1, HostileUrl.Segment(Hostile.OddString)))
        .Where(s => HostileUrl.Decode(s).Trim('.').Length > 0
            && (!long.TryParse(HostileUrl.Decode(s), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n is < 0 or >= 1000));

    /// <summary>A name no record has, near one or not; for a path, without NUL (which Kestrel refuses there).</summary>
    private static Gen<string> UnknownName(string[] real, bool path = false) => Gen.Frequency(
        (3, Hostile.OddString), (1, Gen.Select(Gen.OneOf(real), Gen.OneOf<Func<string, string>>(s => s + " ", s => " " + s, s => s.ToLowerInvariant(), s => s[..^1], s => s + "\u0000"),
            (s, f) => f(s))))
        .Select(s => path ? s.Replace("\0", "") : s).Where(s => !real.Contains(s));
}

/// <summary>1,000 cases per form or page, in process, on SQLite; PATRON_HOSTILE_CASES=10000 for the long run.</summary>
public sealed class ConsoleHostileInputTestsOnSqlite(SqliteHostileHost host, ITestOutputHelper output)
    : ConsoleHostileInputTests(host, HostileRun.Cases(1_000), output), IClassFixture<SqliteHostileHost>;

/// <summary>A smaller run on PostgreSQL, for what only its types and errors can show.</summary>
public sealed class ConsoleHostileInputTestsOnPostgres(PostgresHostileHost host, ITestOutputHelper output)
    : ConsoleHostileInputTests(host, 300, output), IClassFixture<PostgresHostileHost>;
