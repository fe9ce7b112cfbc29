using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points;

/// <summary>An operator's adjustment counts once: the API's Idempotency-Key and the console form's one-time key.</summary>
public abstract partial class OperatorIdempotencyTests(Backend backend) : PatronTest(backend)
{
    private const string OtherAdminToken = "pat_test_other_admin_token_012345";

    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        catalog["admins"]!.AsArray().Add(new JsonObject { ["user"] = "admin2", ["password"] = "other-pass", ["apiToken"] = OtherAdminToken });
        return catalog;
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> AdjustAsync(HttpClient client, long member, long change, string? key,
        string bill = "fix-1")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/members/{member}/points")
        {
            Content = JsonContent.Create(new { busiType = "C", busiBillNum = bill, changeValue = change }),
        };
        if (key is not null)
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    private Task<int> RowsAsync(long member) => App.QueryAsync(db => db.PointEntries.CountAsync(p => p.MemberId == member));

    [Fact]
    public async Task ARetriedAdjustmentGetsTheSameRowAndAddsOnce()
    {
        var first = await AdjustAsync(OperatorClient(), 3, 100, "adj-1");
        var again = await AdjustAsync(OperatorClient(), 3, 100, "adj-1");

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (first.Status, again.Status));
        Assert.Equal(first.Body!["autoId"]!.GetValue<long>(), again.Body!["autoId"]!.GetValue<long>());
        Assert.Equal(first.Body.ToJsonString(), again.Body.ToJsonString());
        Assert.Equal(100, await BalanceAsync(3));
        Assert.Equal(1, await RowsAsync(3));
        Assert.Equal(1, await App.QueryAsync(db => db.AuditLog.CountAsync(a => a.Action == "points.adjust")));
    }

    [Fact]
    public async Task TheSameKeyWithOtherContentIs409AndChangesNothing()
    {
        await AdjustAsync(OperatorClient(), 4, 100, "adj-2");
        var otherValue = await AdjustAsync(OperatorClient(), 4, 101, "adj-2");
        var otherMember = await AdjustAsync(OperatorClient(), 5, 100, "adj-2");

        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (otherValue.Status, otherMember.Status));
        Assert.Equal(1006, otherValue.Body!["code"]!.GetValue<int>());
        Assert.Equal((100L, 0L), (await BalanceAsync(4), await BalanceAsync(5)));
        Assert.Equal(1, await LedgerCountAsync());
    }

    [Fact]
    public async Task TwoOperatorsWithTheSameKeyAreIndependent()
    {
        var mine = await AdjustAsync(OperatorClient(), 6, 100, "shared");
        var theirs = await AdjustAsync(OperatorClient(OtherAdminToken), 6, 100, "shared");
        var partner = await Partner.AddPointsAsync(6, "C", 100, "fix-1", key: "shared");

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created, 0), (mine.Status, theirs.Status, partner.Errcode));
        Assert.NotEqual(mine.Body!["autoId"]!.GetValue<long>(), theirs.Body!["autoId"]!.GetValue<long>());
        Assert.Equal(300, await BalanceAsync(6));
    }

    [Fact]
    public async Task AMalformedKeyIsAProblemAndChangesNothing()
    {
        var answer = await AdjustAsync(OperatorClient(), 7, 100, "has space");

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("Idempotency-Key", answer.Body!["detail"]!.GetValue<string>());
        Assert.Equal(0, await LedgerCountAsync());
    }

    [Fact]
    public async Task ConcurrentIdenticalAdjustmentsWriteOneRow()
    {
        // Two instances on one database: the race is settled by the unique index, not by one process's queue.
        var second = StartApp();
        var clients = new[] { OperatorClient(), OperatorClient(app: second) };
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => AdjustAsync(clients[i % 2], 8, 25, "race")));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.Status));
        Assert.Single(answers.Select(a => a.Body!["autoId"]!.GetValue<long>()).Distinct());
        Assert.Equal(25, await BalanceAsync(8));
        Assert.Equal(1, await RowsAsync(8));
    }

    [Fact]
    public async Task AConsoleFormPostedTwiceAddsOnce()
    {
        var console = await SignedInAsync();
        var form = await AdjustFormAsync(console, 9);
        form["changeValue"] = "500";

        var first = await console.Http.PostAsync("/console/members/9?handler=Adjust", new FormUrlEncodedContent(form));
        var again = await console.Http.PostAsync("/console/members/9?handler=Adjust", new FormUrlEncodedContent(form));

        Assert.Equal((HttpStatusCode.Redirect, HttpStatusCode.Redirect), (first.StatusCode, again.StatusCode));
        Assert.Equal(500, await BalanceAsync(9));
        Assert.Equal(1, await RowsAsync(9));
    }

    [Fact]
    public async Task AConsoleFormSentAgainWithOtherValuesSaysSoAndChangesNothing()
    {
        var console = await SignedInAsync();
        var form = await AdjustFormAsync(console, 10);
        form["changeValue"] = "500";
        await console.Http.PostAsync("/console/members/10?handler=Adjust", new FormUrlEncodedContent(form));
        form["changeValue"] = "700";

        var again = await console.Http.PostAsync("/console/members/10?handler=Adjust", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("already sent with other values", await again.Content.ReadAsStringAsync());
        Assert.Equal(500, await BalanceAsync(10));
        Assert.Equal(1, await RowsAsync(10));
    }

    [Fact]
    public async Task EachRenderingOfTheFormHasANewKey()
    {
        var console = await SignedInAsync();
        var form = await AdjustFormAsync(console, 11);
        form["changeValue"] = "500";
        await console.Http.PostAsync("/console/members/11?handler=Adjust", new FormUrlEncodedContent(form));
        var next = await AdjustFormAsync(console, 11);
        next["changeValue"] = "500";
        await console.Http.PostAsync("/console/members/11?handler=Adjust", new FormUrlEncodedContent(next));

        Assert.NotEqual(form["adjustKey"], next["adjustKey"]);
        Assert.Equal(1000, await BalanceAsync(11));
    }

    private async Task<ConsoleSession> SignedInAsync()
    {
        var console = new ConsoleSession(App);
        Assert.Equal(HttpStatusCode.Redirect, (await console.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword)).StatusCode);
        return console;
    }

    /// <summary>The adjust form's fields as the page rendered them: its anti-forgery token and one-time key.</summary>
    private static async Task<Dictionary<string, string>> AdjustFormAsync(ConsoleSession console, long member)
    {
        var html = await console.Http.GetStringAsync($"/console/members/{member}");
        return new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(FormToken().Match(html).Groups[1].Value),
            ["adjustKey"] = AdjustKey().Match(html) is { Success: true } key ? key.Groups[1].Value : throw new InvalidOperationException("no adjustKey"),
            ["busiType"] = "C",
            ["busiBillNum"] = "console",
        };
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex FormToken();

    [GeneratedRegex("name=\"adjustKey\" value=\"([^\"]+)\"")]
    private static partial Regex AdjustKey();
}

public sealed class OperatorIdempotencyTestsOnSqlite() : OperatorIdempotencyTests(Backend.Sqlite);

public sealed class OperatorIdempotencyTestsOnPostgres() : OperatorIdempotencyTests(Backend.Postgres);
