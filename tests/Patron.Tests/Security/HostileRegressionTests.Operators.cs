using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Security;

/// <summary>What the fuzzers of the native API and the console found.</summary>
public abstract partial class HostileRegressionTests
{
    private async Task<(HttpStatusCode Status, string? MediaType, JsonNode? Body)> ApiAsync(HttpMethod method, string path, string? json = null,
        string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        using var response = await OperatorClient().SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, text.StartsWith('{') || text.StartsWith('[') ? JsonNode.Parse(text) : null);
    }

    private const string Card = """{"id":"L-NEW","name":"新卡","price":19.90,"validDays":60,"onSale":true,"products":[{"id":"P-1","name":"面","totalUsedNum":4,"cycleDays":7,"cycleNum":1}]}""";

    [Theory]
    [InlineData("application/json; charset=bogus")]
    [InlineData("application/json; charset=utf-7")]
    [InlineData("application/json; charset=\"\"")]
    public async Task AJsonBodyInACharsetNobodyCanDecodeIs415NotA500(string contentType)
    {
        var (status, mediaType, _) = await ApiAsync(HttpMethod.Post, "/api/v1/members", """{"name":"x"}""", contentType);

        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "application/problem+json"), (status, mediaType));
        Assert.Equal(TestCatalog.MemberCount, await App.QueryAsync(db => db.Members.CountAsync()));
    }

    [Theory]
    [InlineData("""[null]""")]
    [InlineData("""[{"id":"P-A","name":"a","totalUsedNum":1,"cycleDays":1,"cycleNum":1},{"id":" P-A","name":"b","totalUsedNum":1,"cycleDays":1,"cycleNum":1}]""")]
    public async Task ANullProductOrTwoThatAreTheSameOnceTrimmedAre400(string products)
    {
        var before = await App.QueryAsync(db => db.CardProducts.CountAsync());
        var created = await ApiAsync(HttpMethod.Post, "/api/v1/cards", Card.Replace(Card[Card.IndexOf("[{", StringComparison.Ordinal)..^1], products));
        var edited = await ApiAsync(HttpMethod.Put, $"/api/v1/cards/{TestCatalog.Card}", Card.Replace(Card[Card.IndexOf("[{", StringComparison.Ordinal)..^1], products));

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (created.Status, edited.Status));
        Assert.Equal(before, await App.QueryAsync(db => db.CardProducts.CountAsync()));
    }

    [Fact]
    public async Task AProductIdPaddedWithSpacesNamesTheProductItPads()
    {
        var (status, _, _) = await ApiAsync(HttpMethod.Put, $"/api/v1/cards/{TestCatalog.Card}",
            Card.Replace("L-NEW", TestCatalog.Card).Replace("\"P-1\"", "\" P-NOODLE \""));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["P-NOODLE"], await App.QueryAsync(db => db.CardProducts.Where(p => p.CardId == TestCatalog.Card).Select(p => p.Id).ToListAsync()));
    }

    [Theory]
    [InlineData("/api/v1/cards", Card, " L68F353AD0019")]
    [InlineData("/api/v1/channels", """{"name":"L-NEW","scopes":["card.sale"]}""", "cards-only\u3000")]
    public async Task AnIdTakenOnceTrimmedIsAConflictNotA500(string path, string body, string taken)
    {
        var (status, _, _) = await ApiAsync(HttpMethod.Post, path, body.Replace("\"L-NEW\"", System.Text.Json.JsonSerializer.Serialize(taken)));

        Assert.Equal(HttpStatusCode.Conflict, status);
    }

    /// <summary>A blank scope (a form's empty value binds as null) was taken for "no unknown scope", and stored.</summary>
    [Theory]
    [InlineData("""[null, "no.such.scope"]""")]
    [InlineData("""["card.sale", ""]""")]
    public async Task ABlankScopeIsUnknownAndChangesNothing(string scopes)
    {
        var before = await App.QueryAsync(db => db.Channels.Where(c => c.Name == "cards-only").Select(c => c.Scopes).SingleAsync());
        var (edited, _, body) = await ApiAsync(HttpMethod.Put, "/api/v1/channels/cards-only", $$"""{"scopes":{{scopes}}}""");
        var (created, _, _) = await ApiAsync(HttpMethod.Post, "/api/v1/channels", $$"""{"name":"L-NEW","scopes":{{scopes}}}""");

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (edited, created));
        Assert.Contains("unknown scope", body!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(before, await App.QueryAsync(db => db.Channels.Where(c => c.Name == "cards-only").Select(c => c.Scopes).SingleAsync()));
        Assert.False(await App.QueryAsync(db => db.Channels.AnyAsync(c => c.Name == "L-NEW")));
    }

    [Theory]
    [InlineData("10000000000000000", HttpStatusCode.BadRequest)]
    [InlineData("1e16", HttpStatusCode.BadRequest)]
    [InlineData("9999999999999999.99", HttpStatusCode.Created)]
    public async Task ACardPriceMustFitWhatTheDatabaseHolds(string price, HttpStatusCode expected) =>
        Assert.Equal(expected, (await ApiAsync(HttpMethod.Post, "/api/v1/cards", Card.Replace("19.90", price))).Status);

    [Theory]
    [InlineData("/api/v1/sales?to=9999-12-31")]
    [InlineData("/api/v1/sales.csv?from=0001-01-01&to=9999-12-31")]
    [InlineData("/api/v1/uses?to=9999-12-31")]
    public async Task TheCalendarsLastDayIsAFilterNotA500(string path) => Assert.Equal(HttpStatusCode.OK, (await ApiAsync(HttpMethod.Get, path)).Status);

    [Fact]
    public async Task ASearchLongerThanSQLitesLikePatternLimitFindsNobody()
    {
        var (status, _, body) = await ApiAsync(HttpMethod.Get, "/api/v1/members?q=" + string.Concat(Enumerable.Repeat("%C3%A9", 30_000)));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(body!.AsArray());
    }

    [Theory]
    [InlineData("/api/v1/members?q=M0001%00")]
    [InlineData("/api/v1/audit?entityId=%00")]
    [InlineData("/api/v1/sales?channel=a%00b")]
    [InlineData("/api/v1/uses?restaurant=%00")]
    public async Task ANulCharacterInAFilterMatchesNothing(string path)
    {
        var (status, _, body) = await ApiAsync(HttpMethod.Get, path);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty((body is JsonArray list ? list : body!["items"]!.AsArray()));
    }

    [Theory]
    [InlineData("POST", "/api/v1/members", """{"name":"a\u0000b"}""")]
    [InlineData("POST", "/api/v1/members", """{"code":"M\u0000"}""")]
    [InlineData("PUT", "/api/v1/members/1", """{"phone":"1\u0000"}""")]
    [InlineData("POST", "/api/v1/members/1/points", """{"busiType":"P","busiBillNum":"B\u0000","changeValue":5}""")]
    [InlineData("PUT", "/api/v1/levels/32", """{"name":"银\u0000","threshold":500}""")]
    [InlineData("POST", "/api/v1/cards", """{"id":"L\u0000","name":"x","price":1,"validDays":1,"onSale":true,"products":[{"id":"P","name":"x","totalUsedNum":1,"cycleDays":1,"cycleNum":1}]}""")]
    [InlineData("POST", "/api/v1/channels", """{"name":"fz\u0000"}""")]
    [InlineData("POST", "/api/v1/operators", """{"user":"fz\u0000","password":"a-good-password","role":"viewer"}""")]
    public async Task ANulCharacterInTextAnOperatorSendsIs400(string method, string path, string json)
    {
        var audit = await App.QueryAsync(db => db.AuditLog.CountAsync());

        var (status, _, _) = await ApiAsync(new HttpMethod(method), path, json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(audit, await App.QueryAsync(db => db.AuditLog.CountAsync()));
    }

    [Fact]
    public async Task ANulCharacterInASaleNumbersChannelIs404() =>
        Assert.Equal(HttpStatusCode.NotFound, (await ApiAsync(HttpMethod.Get, "/api/v1/sales/S-1?channel=%00")).Status);

    // ---- the console ----

    private async Task<HttpResponseMessage> ConsoleAsync(HttpMethod method, string path, CookieSession? session = null, string? form = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (form is not null)
            request.Content = new StringContent(session is null ? form : $"{form}&__RequestVerificationToken={Uri.EscapeDataString(session.FormToken)}",
                Encoding.UTF8, "application/x-www-form-urlencoded");
        if (session is not null)
            request.Headers.Add("Cookie", session.Cookie);
        return await CookieSession.Client(App).SendAsync(request);
    }

    [Theory]
    [InlineData("/%09/evil.example")]
    [InlineData("/%0D%0A/evil.example")]
    [InlineData("/console%C2%85")]
    public async Task TheLanguageSwitchTurnsAReturnAddressWithControlCharactersHome(string returnUrl)
    {
        using var response = await ConsoleAsync(HttpMethod.Get, $"/console/language?culture=en&returnUrl={returnUrl}");

        Assert.Equal((HttpStatusCode.Redirect, "/console"), (response.StatusCode, response.Headers.Location?.OriginalString));
    }

    [Theory]
    [InlineData("POST", "/console/levels")] // the page again, with its error (id 0 to 255)
    [InlineData("GET", "/console/cards")] // a form body on a GET is read for the page's bound properties too
    public async Task AFormKeyWithAnUnclosedBracketIsIgnoredNotA500(string method, string path)
    {
        var admin = await CookieSession.StartAsync(App, TestCatalog.AdminUser, TestCatalog.AdminPassword);

        using var response = await ConsoleAsync(new HttpMethod(method), path, admin, "id=300&name=x&threshold=1&Form.Products[0=x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/console")]
    [InlineData("/console/audit")]
    [InlineData("/console/sales")]
    [InlineData("/console/members/1")]
    [InlineData("/console/account?handler=Nope")]
    public async Task APostToAPageWithNoHandlerForItIs405NotA500(string path)
    {
        var admin = await CookieSession.StartAsync(App, TestCatalog.AdminUser, TestCatalog.AdminPassword);

        using var response = await ConsoleAsync(HttpMethod.Post, path, admin, "x=1");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task ANulCharacterInTheSignInFormsUserIsAWrongUser()
    {
        var anonymous = await CookieSession.StartAsync(App);

        // A form with a NUL in it is refused (400) before the page sees it; the query string is not.
        using var response = await ConsoleAsync(HttpMethod.Post, "/console/login?user=admin%00", anonymous, "password=x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("id=\"login-error\"", await response.Content.ReadAsStringAsync());
    }
}
