using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Operators;

public abstract class OperatorAuthTests(Backend backend) : PatronTest(backend)
{
    /// <summary>Every /api/v1 route of the running app, with sample values in its parameters.</summary>
    private List<(HttpMethod Method, string Path, bool AdminOnly)> ApiRoutes() =>
        [.. App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/v1", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => (new HttpMethod(m),
                e.RoutePattern.RawText!.Replace("{id:long}", "1").Replace("{id:int}", "32").Replace("{id}", TestCatalog.Card)
                    .Replace("{name}", "other").Replace("{saleNo}", "S-1"),
                e.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any(a => a.Policy == "admin"))))];

    private static readonly string[] OwnAccountRoutes = ["/api/v1/operators/me/token"];

    private static HttpRequestMessage Request(HttpMethod method, string path) => new(method, path)
    {
        Content = method == HttpMethod.Get ? null : JsonContent.Create(new { }),
    };

    [Fact]
    public async Task EveryApiRouteAnswers401WithoutCredentials()
    {
        var routes = ApiRoutes();
        Assert.True(routes.Count >= 20, $"only {routes.Count} routes found");
        foreach (var (method, path, _) in routes)
        {
            using var response = await App.CreateClient().SendAsync(Request(method, path));
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task AViewerReadsEverythingAndChangesNothing()
    {
        var viewer = OperatorClient(TestCatalog.ViewerToken);
        // Replacing one's own token is not a change to the chain; it is tested, last, on its own.
        foreach (var (method, path, adminOnly) in ApiRoutes().Where(r => !OwnAccountRoutes.Contains(r.Path)))
        {
            using var response = await viewer.SendAsync(Request(method, path));
            if (adminOnly)
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path}: {response.StatusCode}");
            else if (method == HttpMethod.Get)
                Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{method} {path}: {response.StatusCode}");
            else
                Assert.Fail($"{method} {path} is a change open to viewers");
        }
        using var ownToken = await viewer.SendAsync(Request(HttpMethod.Post, OwnAccountRoutes[0]));
        Assert.Equal(HttpStatusCode.OK, ownToken.StatusCode);
        Assert.Equal(0, await App.QueryAsync(db => db.AuditLog.CountAsync(a => a.Action != "operator.token")));
    }

    [Fact]
    public async Task PagesRedirectToSignInWithoutACookie()
    {
        var session = new ConsoleSession(App);

        using var response = await session.Http.GetAsync("/console/members");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/console/login", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task SigningInOpensTheConsoleAndTheApiButChangesNeedTheAntiforgeryToken()
    {
        var session = new ConsoleSession(App);

        using var signIn = await session.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);
        using var page = await session.Http.GetAsync("/console/members?q=M0001");
        using var read = await session.Http.GetAsync("/api/v1/members/1");
        using var forged = await session.Http.PostAsJsonAsync("/api/v1/members", new { name = "forged" });
        var token = JsonNode.Parse(await session.Http.GetStringAsync("/api/v1/antiforgery"))!["token"]!.GetValue<string>();
        using var honest = new HttpRequestMessage(HttpMethod.Post, "/api/v1/members") { Content = JsonContent.Create(new { name = "honest" }) };
        honest.Headers.Add("X-CSRF-TOKEN", token);
        using var created = await session.Http.SendAsync(honest);

        Assert.Equal((HttpStatusCode.Redirect, "/console"), (signIn.StatusCode, signIn.Headers.Location!.OriginalString));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (page.StatusCode, read.StatusCode));
        Assert.Contains("M0001", await page.Content.ReadAsStringAsync());
        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.Created), (forged.StatusCode, created.StatusCode));
        Assert.Equal(["honest"], await App.QueryAsync(db => db.Members.Where(m => m.Id > TestCatalog.MemberCount).Select(m => m.Name!).ToListAsync()));
    }

    [Fact]
    public async Task AFormPostedWithoutItsAntiforgeryTokenIsRefused()
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);

        using var response = await session.PostFormAsync("/console/levels", new() { ["id"] = "32", ["name"] = "x", ["threshold"] = "500" }, withToken: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(2, await App.QueryAsync(db => db.Levels.CountAsync()));
    }

    [Fact]
    public async Task AViewersFormPostIsForbidden()
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.ViewerUser, TestCatalog.ViewerPassword);

        using var response = await session.PostFormAsync("/console/levels", new() { ["id"] = "32", ["name"] = "x", ["threshold"] = "500" });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/console/denied", response.Headers.Location!.PathAndQuery);
        Assert.Equal(2, await App.QueryAsync(db => db.Levels.CountAsync()));
    }

    [Fact]
    public async Task RepeatedFailuresLockTheAccountEvenForTheRightPassword()
    {
        var session = new ConsoleSession(App);
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await session.SignInAsync(TestCatalog.AdminUser, "not-it");
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        }

        using var right = await session.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);

        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Contains("login-error", await right.Content.ReadAsStringAsync());
        Assert.NotNull(await App.QueryAsync(db => db.Operators.Where(o => o.UserName == TestCatalog.AdminUser).Select(o => o.LockedUntil).SingleAsync()));
    }

    [Fact]
    public async Task AReturnUrlElsewhereIsIgnored()
    {
        var session = new ConsoleSession(App);
        var token = await session.FormTokenAsync("/console/login");

        using var response = await session.Http.PostAsync("/console/login?ReturnUrl=https%3A%2F%2Fevil.example",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = TestCatalog.AdminUser, ["password"] = TestCatalog.AdminPassword, ["__RequestVerificationToken"] = token }));

        Assert.Equal("/console", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task LabelsAreChineseByDefaultAndEnglishOnRequest()
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);

        var chinese = await session.Http.GetStringAsync("/console/members");
        await session.Http.GetAsync("/console/language?culture=en&returnUrl=%2Fconsole%2Fmembers");
        var english = await session.Http.GetStringAsync("/console/members");

        Assert.Contains("会员", chinese);
        Assert.Contains(">Members<", english);
        Assert.DoesNotContain(">Members<", chinese);
    }
}

public sealed class OperatorAuthTestsOnSqlite() : OperatorAuthTests(Backend.Sqlite);

public sealed class OperatorAuthTestsOnPostgres() : OperatorAuthTests(Backend.Postgres);
