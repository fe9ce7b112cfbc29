using System.Globalization;
using System.Net;
using CsCheck;
using Patron.Tests.Infrastructure;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>Signing in, the language switch, the pages that read a query, and every form with the wrong session or token.</summary>
public abstract partial class ConsoleHostileInputTests
{
    /// <summary>Return addresses: local ones, other sites in every spelling, control characters, and odd text.</summary>
    private static readonly Gen<string> ReturnUrl = Gen.Frequency(
        (2, Gen.OneOf("/console", "/console/members?q=1", "/", "/console/members/1")),
        (3, Gen.OneOf("//evil.example", "/\\evil.example", "\\\\evil.example", "http://evil.example", "https:evil.example", "javascript:alert(1)", "/%2F%2Fevil.example",
            "/\t/evil.example", "/\r\n/evil.example", "/ /evil.example", "//", "/\\", "~/console", "%2F%2Fevil.example", "/console\u0000", "/\u3000/evil.example",
            "data:text/html,<script>", "/console?x=<script>alert(1)</script>", "\u2028/evil")),
        (3, Hostile.OddString.Select(s => "/" + s)),
        (2, Hostile.OddString));

    /// <summary>
    /// Wrong passwords (for the viewer, whose lockout they are meant to count), unknown and odd
    /// users, and the admin's right password with a hostile return address: signing in is then
    /// allowed, and counted, but only to an address on this site.
    /// </summary>
    [Fact]
    public Task SignInRefusesHostileInput() => FuzzAsync("POST /console/login", s =>
        {
            var anonymous = Gen.Frequency((12, Gen.Const(new Caller(s.Anonymous.Cookie, s.Anonymous.FormToken, "anonymous"))),
                (1, Gen.OneOf(new Caller(s.Anonymous.Cookie, null, "no-token"), new Caller(s.Anonymous.Cookie, s.Admin.FormToken, "foreign-token"),
                    new Caller("", s.Anonymous.FormToken, "no-token"))));
            return Gen.Frequency(
                (6, Posts(s, "wrong", Gen.Const("/console/login"), Gen.Select(
                        Gen.Frequency((1, Gen.Const(TestCatalog.ViewerUser)), (2, Hostile.OddString.Where(u => u.Trim() is not (TestCatalog.AdminUser or TestCatalog.ViewerUser)))),
                        Hostile.OddString.Where(p => p != TestCatalog.ViewerPassword), ReturnUrl,
                        (user, password, back) => new[] { Str("user", user), Str("password", password), Str("returnUrl", back) })
                    .SelectMany(f => Hostile.Shuffled([.. f.Select(x => Gen.Const<WireField?>(x))])),
                    Seed($"user={new string('u', 1000)}&password=x"), anonymous)),
                (2, Posts(s, "right", Gen.Const("/console/login"), ReturnUrl.Select(back => new[]
                    { Str("user", TestCatalog.AdminUser), Str("password", TestCatalog.AdminPassword), Str("returnUrl", back) }), Seed("user=nobody&password=x"), anonymous)));
        },
        (call, answer) => (call.Note.Split(' ')[1], answer.Code) switch
        {
            (_, 400) => "400",
            ("right", 302) => Redirect(answer),
            (_, 200) => Html(answer, "id=\"login-error\""),
            _ => throw new Xunit.Sdk.XunitException($"{answer.Code}: {answer.Location} {answer.Text}"),
        }, signInCounters: false);

    [Fact]
    public Task SignInPageAnswersHostileReturnUrls() => FuzzAsync("GET /console/login", s => Reads(s, "login",
        HostileUrl.Query(("ReturnUrl", ReturnUrl)).Select(q => "/console/login" + q), anonymousOnly: true), Read);

    [Fact]
    public Task LanguageSwitchRedirectsOnlyOnTheSite() => FuzzAsync("GET /console/language", s => Reads(s, "language",
            HostileUrl.Query(("culture", Gen.Frequency((2, Gen.OneOf("zh-CN", "en", "EN", "zh", "en-US", "")), (1, Hostile.OddString))), ("returnUrl", ReturnUrl))
            .Select(q => "/console/language" + q)),
        (_, answer) => answer.Code switch
        {
            302 => Redirect(answer),
            400 => "400",
            _ => throw new Xunit.Sdk.XunitException($"{answer.Code}: {answer.Text}"),
        });

    // ---- pages that read ----

    /// <summary>Reads as the admin, the viewer, or without a session; a query string, and now and then a body nobody asked for.</summary>
    private static Gen<HostileCall> Reads(Sessions s, string target, Gen<string> paths, bool anonymousOnly = false) => Gen.Select(paths,
        anonymousOnly ? Gen.Const(new Caller(s.Anonymous.Cookie, null, "anonymous"))
            : Gen.Frequency((10, Gen.Const(new Caller(s.Admin.Cookie, null, "admin"))), (2, Gen.Const(new Caller(s.Viewer.Cookie, null, "viewer"))),
                (1, Gen.OneOf(new Caller("", null, "no-cookie"), new Caller(s.Anonymous.Cookie, null, "anonymous")))),
        Gen.Frequency((12, Gen.Const(Array.Empty<byte>())), (1, Hostile.FormAttack)),
        (path, caller, body) => new HostileCall("GET", path, body.Length == 0 ? null : "application/x-www-form-urlencoded", body.Length == 0 ? null : body,
            caller.Cookie.Length == 0 ? [] : [("Cookie", caller.Cookie)], $"read {target} {caller.Note}"));

    private static readonly Gen<string> AnyCursor = Gen.Frequency((2, Gen.Long.Select(n => n.ToString(CultureInfo.InvariantCulture))), (1, Hostile.OddNumber), (1, Hostile.OddString));

    private static readonly Gen<string> AnyDate = Gen.Frequency(
        (3, Gen.Int[-400, 30].Select(d => DateOnly.FromDateTime(DateTime.UtcNow.AddDays(d)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))),
        (2, Gen.OneOf("0001-01-01", "9999-12-31", "2026-02-29", "2026-13-01", "2026-1-5", "20260105", "2026-01-05T00:00:00", "-0001-01-01", "1/5/2026", "yesterday", "", "10000-01-01")),
        (2, Hostile.OddString));

    private static Gen<string> Filters => HostileUrl.Query(("from", AnyDate), ("to", AnyDate), ("channel", Gen.Frequency((2, Gen.OneOf(RealChannels)), (1, Hostile.OddString))),
        ("restaurant", Gen.Frequency((2, Gen.OneOf("526", "POS-1")), (1, Hostile.OddString))), ("before", AnyCursor));

    [Fact]
    public Task MemberSearchPageAnswersHostileQueries() => FuzzAsync("GET /console/members", s => Reads(s, "search", HostileUrl.Query(
        ("q", Gen.Frequency((2, Gen.OneOf("M0001", "13800000012", "会员3", "1")), (3, Hostile.OddString)))).Select(q => "/console/members" + q)), Read);

    [Fact]
    public Task MemberPageAnswersHostileIds() => FuzzAsync("GET /console/members/{id}", s => Reads(s, "member", Gen.Select(
        Gen.Frequency((3, RealMember.Select(id => id.ToString(CultureInfo.InvariantCulture))), (2, UnknownMember)), HostileUrl.Query(("before", AnyCursor)),
        (id, q) => $"/console/members/{id}{q}")), Read);

    [Fact]
    public Task CardPageAnswersHostileIds() => FuzzAsync("GET /console/cards/{id}", s => Reads(s, "card",
        Gen.Frequency((1, Gen.OneOf(RealCards)), (3, UnknownName(RealCards, path: true).Select(HostileUrl.Escape))).Select(c => $"/console/cards/{c}")), Read);

    [Fact]
    public Task SalesPageAnswersHostileFilters() => FuzzAsync("GET /console/sales", s => Reads(s, "sales", Filters.Select(q => "/console/sales" + q)), Read);

    [Fact]
    public Task UsesPageAnswersHostileFilters() => FuzzAsync("GET /console/uses", s => Reads(s, "uses", Filters.Select(q => "/console/uses" + q)), Read);

    [Fact]
    public Task AuditPageAnswersHostileCursors() => FuzzAsync("GET /console/audit", s => Reads(s, "audit",
        HostileUrl.Query(("before", AnyCursor)).Select(q => "/console/audit" + q)), Read);

    // ---- every form, with what would succeed but for the session or the token ----

    private static readonly (string Path, string Fields, bool OwnAccount)[] Forms =
    [
        ("/console/members", "name=fz&phone=1", false), ("/console/members/1?handler=Adjust", "busiType=P&busiBillNum=B-1&changeValue=5", false),
        ("/console/members/1?handler=Edit", "name=fz&phone=1", false), ("/console/members/1?handler=Refund", "saleNo=S-1&channel=hkl-test", false),
        ("/console/members/1?handler=CancelUse", "useNo=U-1&channel=hkl-test", false), ("/console/members/1?handler=Extend", "cardId=L0&endDate=2099-01-01", false),
        ("/console/cards", "Form.Id=L-NEW&Form.Name=x&Form.Price=1&Form.ValidDays=30&Form.OnSale=true&Form.Products[0].Id=P-1&Form.Products[0].Name=x", false),
        ($"/console/cards/{TestCatalog.Card}", "Form.Name=x&Form.Price=1&Form.ValidDays=30&Form.Products[0].Id=P-NOODLE&Form.Products[0].Name=x", false),
        ($"/console/cards?handler=OffSale&id={TestCatalog.Card}", "", false),
        ("/console/channels", "name=fz-new&cipher=des-ecb&scopes=card.sale", false), ("/console/channels?handler=Scopes&name=other", "scopes=points.add&scopes=card.sale", false),
        ("/console/channels?handler=Rotate&name=other", "", false),
        ("/console/channels?handler=Settings&name=other", "billNumIsKey=true&maxUseAgeDays=7&maxSaleAgeDays=7&perSecond=5&burst=", false), ("/console/levels", "id=32&name=x&threshold=500", false),
        ("/console/account?handler=Operator", "user=fz-new&password=a-good-password&role=viewer", false), ("/console/account?handler=Token", "", true),
        ("/console/logout", "", true),
        ("/console/webhooks", "name=fz-new&url=https://hooks.example/in&events=*", false), ("/console/webhooks?handler=Rotate&id=1", "", false),
        ("/console/webhooks/deliveries/1?handler=Resend", "", false),
    ];

    /// <summary>
    /// Each form with fields that would be accepted, posted without a session, with a forged
    /// cookie, by a viewer (where only admins may change), or with a missing, foreign or mangled
    /// anti-forgery token. The token renewal and sign-out, whose only input is the session, are here.
    /// </summary>
    [Fact]
    public Task EveryFormRefusesHostileSessionsAndTokens() => FuzzAsync("every form, hostile sessions and tokens", s =>
        Gen.OneOf(Forms).SelectMany(form => Gen.Select(
            WrongCallers(s, viewer: !form.OwnAccount), FormType,
            (caller, type) => new HostileCall("POST", form.Path, type, Seed(form.Fields)(caller.FormToken), caller.Cookie.Length == 0 ? [] : [("Cookie", caller.Cookie)],
                $"session {form.Path.Split('?')[0]} {caller.Note}"))),
        Refused());

    /// <summary>Pages that only read, and handlers that do not exist on pages without a default one, posted to with the admin's session and token: nothing to run.</summary>
    [Fact]
    public Task PagesWithoutAFormRefusePosts() => FuzzAsync("POST to pages that only read", s => Gen.Select(
            Gen.OneOf("/console", "/console/", "/console/audit", "/console/sales", "/console/uses", "/console/api", "/console/denied", "/console/members/1", "/console/webhooks/1/deliveries",
                "/console/members/1?handler=Nope", "/console/members/1?handler=", "/console/account", "/console/account?handler=Nope"),
            Gen.Frequency((6, Gen.Const("POST")), (1, Gen.OneOf("PUT", "DELETE", "PATCH"))), FormType,
            Gen.Frequency((3, Gen.Const("")), (1, Hostile.FormAttack.Select(b => System.Text.Encoding.UTF8.GetString(b)))),
            (path, method, type, fields) => new HostileCall(method, path, type, Seed(fields)(s.Admin.FormToken), [("Cookie", s.Admin.Cookie)], $"post {path.Split('?')[0]} admin")),
        (_, answer) => answer.Code is 400 or 404 or 405 ? $"{answer.Code}" : throw new Xunit.Sdk.XunitException($"{answer.Code}: {answer.Text}"));
}
