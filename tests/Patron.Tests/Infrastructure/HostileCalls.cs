using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using CsCheck;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Patron.Tests.Infrastructure;

/// <summary>One hostile call to the native API or the console: any method, a path with its query, a body, headers, and how it was made.</summary>
public sealed record HostileCall(string Method, string Path, string? ContentType, byte[]? Body, IReadOnlyList<(string Name, string Value)> Headers, string Note)
{
    /// <summary>False when the Accept header leaves JSON out: a bare status code may then be answered in plain text.</summary>
    public bool AcceptsJson { get; init; } = true;

    public override string ToString()
    {
        var text = Body is null ? "" : Encoding.UTF8.GetString(Body);
        var preview = text.Length > 600 ? text[..600] + $"… ({Body!.Length} bytes)" : text;
        var path = Path.Length > 600 ? Path[..600] + $"… ({Path.Length} characters)" : Path;
        var headers = string.Join(" ", Headers.Select(h => $"{h.Name}: {(h.Value.Length > 200 ? h.Value[..200] + "…" : h.Value)}"));
        return $"{Note}: {Method} {path} [{ContentType}] {headers}\n{preview}";
    }
}

public sealed record HostileAnswer(HttpStatusCode Status, string? MediaType, byte[] Body, Uri? Location)
{
    public int Code => (int)Status;
    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// Sends generated hostile calls two at a time and checks what holds for every answer whatever
/// the endpoint: not a 5xx, within 15 s, no stack trace. The endpoint's own check then names the
/// outcome, and the outcomes, the kinds of case and the time they took are reported.
/// </summary>
public static partial class HostileRun
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Cases per endpoint: the given number, or PATRON_HOSTILE_CASES. Over ~45 endpoints of the native
    /// API and the console, 10,000 each take about 8 minutes on 2 cores; the default keeps the suite short.
    /// </summary>
    public static int Cases(int byDefault) =>
        int.TryParse(Environment.GetEnvironmentVariable("PATRON_HOSTILE_CASES"), out var cases) && cases > 0 ? cases : byDefault;

    [GeneratedRegex(@"\bat (Patron|Microsoft|System|Npgsql)\.[\w.`<>|]+\(")]
    private static partial Regex StackFrame();

    public static async Task SampleAsync(ITestOutputHelper output, string name, int cases, Gen<HostileCall> gen,
        HttpClient http, Func<HostileCall, HostileAnswer, string> check)
    {
        var outcomes = new ConcurrentDictionary<string, int>();
        var kinds = new ConcurrentDictionary<string, (int Count, long Ticks)>();
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;

        await gen.SampleAsync(async call =>
        {
            using var message = new HttpRequestMessage(new HttpMethod(call.Method), call.Path);
            if (call.Body is not null)
            {
                message.Content = new ByteArrayContent(call.Body);
                if (call.ContentType is not null)
                    message.Content.Headers.TryAddWithoutValidation("Content-Type", call.ContentType);
            }
            foreach (var (header, value) in call.Headers)
                message.Headers.TryAddWithoutValidation(header, value);
            using var timeout = new CancellationTokenSource(RequestTimeout);
            var started = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(message, timeout.Token);
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            var answer = new HostileAnswer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, response.Headers.Location);
            Assert.True(answer.Code < 500, $"{answer.Code}: {Preview(answer.Text)}");
            Assert.False(StackFrame().IsMatch(answer.Text), $"a stack trace: {Preview(answer.Text)}");
            var outcome = check(call, answer);
            outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            var took = Stopwatch.GetTimestamp() - started;
            var kind = string.Join(' ', call.Note.Split(' ').Take(2));
            kinds.AddOrUpdate(kind, (1, took), (_, v) => (v.Count + 1, v.Ticks + took));
        }, iter: cases, threads: 2, print: c => c.ToString());

        foreach (var (kind, (count, ticks)) in kinds.OrderByDescending(k => k.Value.Ticks))
            output.WriteLine($"  {kind}: {count} cases, {Stopwatch.GetElapsedTime(0, ticks).TotalSeconds:F1} s in requests");
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        output.WriteLine($"{name}: {cases} cases in {clock.Elapsed.TotalSeconds:F1} s ({used.TotalSeconds:F1} s CPU); answers {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}×{o.Value}"))}");
    }

    private static string Preview(string text) => text.Length > 2000 ? text[..2000] + "…" : text;
}

/// <summary>Every table but the data-protection key ring, serialized, so that two snapshots compare as strings.</summary>
public static class HostileSnapshot
{
    private static readonly JsonSerializerOptions Json = new() { ReferenceHandler = ReferenceHandler.IgnoreCycles };

    /// <param name="signInCounters">False to leave out operators' failed sign-ins and lockouts, which a failed sign-in is meant to change.</param>
    public static Task<string> TakeAsync(PatronApp app, bool signInCounters = true) => app.QueryAsync(async db => JsonSerializer.Serialize(new
    {
        Settings = await db.Settings.AsNoTracking().OrderBy(s => s.Key).ToListAsync(),
        Levels = await db.Levels.AsNoTracking().OrderBy(l => l.Id).ToListAsync(),
        Members = await db.Members.AsNoTracking().OrderBy(m => m.Id).ToListAsync(),
        MemberLog = await db.MemberLogs.AsNoTracking().OrderBy(l => l.Id).ToListAsync(),
        Ledger = await db.PointEntries.AsNoTracking().OrderBy(p => p.AutoId).ToListAsync(),
        Channels = await db.Channels.AsNoTracking().OrderBy(c => c.Id).ToListAsync(),
        Cards = await db.Cards.AsNoTracking().OrderBy(c => c.Id).ToListAsync(),
        Products = await db.CardProducts.AsNoTracking().OrderBy(p => p.CardId).ThenBy(p => p.Id).ToListAsync(),
        Operators = (await db.Operators.AsNoTracking().OrderBy(o => o.UserName).ToListAsync())
            .Select(o => new { o.UserName, o.PasswordHash, o.Role, o.CreatedAt, o.ApiTokenHash, Failed = signInCounters ? o.FailedSignIns : 0, Locked = signInCounters ? o.LockedUntil : null }),
        Audit = await db.AuditLog.AsNoTracking().OrderBy(a => a.Id).ToListAsync(),
        Sales = await db.CardSales.AsNoTracking().OrderBy(s => s.Id).ToListAsync(),
        MemberCards = await db.MemberCards.AsNoTracking().OrderBy(c => c.Id).ToListAsync(),
        Entries = await db.UsageEntries.AsNoTracking().OrderBy(e => e.Id).ToListAsync(),
        Uses = await db.CardUses.AsNoTracking().OrderBy(u => u.Id).ToListAsync(),
        UseLog = await db.CardUseLogs.AsNoTracking().OrderBy(l => l.Id).ToListAsync(),
    }, Json));
}

/// <summary>Hostile path segments and query strings.</summary>
public static class HostileUrl
{
    /// <summary>
    /// Escapes that a percent-encoder would never write: broken or overlong UTF-8, encoded slashes
    /// and dots, double encoding. Not %00: Kestrel refuses a NUL in the path before the app sees it,
    /// and the in-process test server throws instead.
    /// </summary>
    public static readonly string[] RawSegments =
    [
        "%", "%Z", "%ZZ", "%2F", "a%2Fb", "%2f..%2f", "%5C", "%ED%A0%80", "%C0%80", "%C0%AF", "%FF", "%E4%B8", "%EF%BB%BF",
        "%2E%2E", "%2e", "..%2F..%2Fhealth", ";", "a;b=c", "%3B", "%3F", "%23", "%20", "%20%20", "+", "~", "%252F", "%25", "%u0041", "%0A", "%0D%0A",
    ];

    public static string Escape(string text) => Uri.EscapeDataString(Utf8Safe(text));

    /// <summary>What a segment or query value decodes to on the server, near enough to tell which record it names.</summary>
    public static string Decode(string escaped) => Uri.UnescapeDataString(escaped.Replace('+', ' '));

    // Lone surrogates cannot be percent-encoded; broken UTF-8 comes from the raw escapes instead.
    public static string Utf8Safe(string s) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));

    /// <summary>A path segment: a percent-encoded value, or a raw escape.</summary>
    public static Gen<string> Segment(Gen<string> values) => Gen.Frequency((6, values.Select(v => Escape(v.Replace("\0", "")))), (1, Gen.OneOf(RawSegments)));

    /// <summary>
    /// A query string: each parameter present or not, in any order, now and then repeated, misspelt
    /// or joined by junk (empty pairs, raw escapes, a culture for the localization middleware).
    /// </summary>
    public static Gen<string> Query(params (string Key, Gen<string> Value)[] parameters)
    {
        var pairs = parameters.Select(p => Gen.Frequency(
            (3, p.Value.Select(v => new[] { $"{Escape(p.Key)}={Escape(v)}" })),
            (2, Gen.Const(Array.Empty<string>())),
            (1, Gen.Select(p.Value, p.Value, (a, b) => new[] { $"{Escape(p.Key)}={Escape(a)}", $"{Escape(p.Key.ToUpperInvariant())}={Escape(b)}" })),
            (1, Gen.OneOf([.. RawSegments, "%00", "a%00b"]).Select(raw => new[] { $"{p.Key}={raw}" })))).ToArray();
        var junk = Gen.Frequency(
            (6, Gen.Const(Array.Empty<string>())),
            (1, Gen.Select(Hostile.OddString, Hostile.OddString, (k, v) => new[] { $"{Escape(k)}={Escape(v)}" })),
            (1, Gen.OneOf("&", "&&", "=", "==x", "a", "a=1=2", "%", "%ZZ=1", "?", "#x", "culture=xx-NOPE", "ui-culture=zh-CN%00", "culture=" + new string('a', 3000))
                .Select(j => new[] { j })),
            (1, Gen.Int[200, 6000].Select(n => Enumerable.Range(0, n).Select(i => $"k{i}={i}").ToArray())));
        return Gen.Select(All(pairs), junk, Gen.Int[0, int.MaxValue], (present, extra, seed) =>
        {
            var random = new Random(seed);
            var all = present.SelectMany(p => p).Concat(extra).OrderBy(_ => random.Next()).ToArray();
            return all.Length == 0 ? "" : "?" + string.Join('&', all);
        });
    }

    private static Gen<T[]> All<T>(Gen<T>[] gens) => gens.Aggregate(Gen.Const(Array.Empty<T>()), (acc, g) => Gen.Select(acc, g, (a, v) => (T[])[.. a, v]));
}

/// <summary>
/// A console session held as a Cookie header and a form token rather than in a cookie jar, so that
/// calls are independent of each other and a test can send any cookie it likes.
/// </summary>
public sealed partial record CookieSession(string Cookie, string FormToken)
{
    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex FormTokenField();

    /// <summary>A client that neither follows redirects nor keeps cookies.</summary>
    public static HttpClient Client(PatronApp app) =>
        app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

    /// <summary>Signs in through the form; null user for an anonymous session (the anti-forgery cookie and the sign-in form's token).</summary>
    public static async Task<CookieSession> StartAsync(PatronApp app, string? user = null, string? password = null)
    {
        var http = Client(app);
        var cookies = new Dictionary<string, string>();
        var (_, token) = await GetAsync(http, "/console/login", cookies);
        if (user is null)
            return new CookieSession(Header(cookies), token);
        using var login = new HttpRequestMessage(HttpMethod.Post, "/console/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = user, ["password"] = password!, ["__RequestVerificationToken"] = token }),
        };
        login.Headers.Add("Cookie", Header(cookies));
        using var signedIn = await http.SendAsync(login);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Keep(signedIn, cookies);
        var (_, formToken) = await GetAsync(http, "/console/members", cookies);
        return new CookieSession(Header(cookies), formToken);
    }

    private static async Task<(string Html, string Token)> GetAsync(HttpClient http, string page, Dictionary<string, string> cookies)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, page);
        if (cookies.Count > 0)
            request.Headers.Add("Cookie", Header(cookies));
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Keep(response, cookies);
        var html = await response.Content.ReadAsStringAsync();
        return (html, WebUtility.HtmlDecode(FormTokenField().Match(html).Groups[1].Value));
    }

    private static void Keep(HttpResponseMessage response, Dictionary<string, string> cookies)
    {
        foreach (var set in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
        {
            var pair = set.Split(';')[0];
            var at = pair.IndexOf('=');
            cookies[pair[..at]] = pair[(at + 1)..];
        }
    }

    private static string Header(Dictionary<string, string> cookies) => string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}"));
}

/// <summary>
/// One host and database for all the tests of a fuzz class. Each run checks that it leaves every
/// table as it found it, so the tests can share them; a fresh database each (about a second, more
/// on PostgreSQL, for some 45 tests) would only cost time. A host per backend, as xUnit fixtures take no arguments.
/// </summary>
public abstract class HostileHost(Backend backend) : IAsyncLifetime
{
    private readonly Lock _gate = new();
    private Task? _seeded;

    public PatronApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var connection = await backend.NewMigratedDatabaseAsync();
        // Warnings and errors only: Patron lets MVC's page invoker log at Debug, a line per request the runs cannot afford.
        App = new PatronApp(backend.Storage, connection, TestCatalog.Write(TestCatalog.Build()), configure: builder => builder
            .UseSetting("Logging:LogLevel:Default", "Warning")
            .ConfigureLogging(l => l.AddFilter("Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure.PageActionInvoker", LogLevel.Warning)));
        _ = App.Server;
    }

    /// <summary>Runs the seed on the first call only; later calls get what it gave.</summary>
    public Task<T> SeedOnceAsync<T>(Func<Task<T>> seed)
    {
        lock (_gate)
            return (Task<T>)(_seeded ??= seed());
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}

public sealed class SqliteHostileHost() : HostileHost(Backend.Sqlite);

public sealed class PostgresHostileHost() : HostileHost(Backend.Postgres);
