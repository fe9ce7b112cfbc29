using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Cards;

/// <summary>
/// Staff refund a sale, cancel a use and extend a card, from /api/v1 and from a member's page: the
/// partners' rules and kept answers, attributed to the operator, audited in the same transaction.
/// The sales are M0001's (member 1), on 2026-01-05 in Asia/Shanghai: 30 days, the last 2026-02-03.
/// </summary>
public abstract class StaffCardActionTests(Backend backend) : PatronTest(backend)
{
    protected override JsonObject Catalog() => RefundCatalog.Build();

    private OpenApiClient Open => new(App.CreateClient());

    /// <summary>The end of 2026-02-20 in Asia/Shanghai, as epoch ms.</summary>
    private static readonly long EndOfFeb20 = new DateTimeOffset(2026, 2, 21, 0, 0, 0, TimeSpan.FromHours(8)).ToUnixTimeMilliseconds() - 1;

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> PostAsync(HttpClient client, string path, object? body = null)
    {
        using var response = body is null ? await client.PostAsync(path, null) : await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 && text[0] == '{' ? JsonNode.Parse(text) : null);
    }

    private Task<List<(string Action, string Actor, string EntityId, string? Before, string? After)>> AuditAsync() => App.QueryAsync(async db =>
        (await db.AuditLog.OrderBy(a => a.Id).ToListAsync()).Select(a => (a.Action, a.Actor, a.EntityId, a.Before, a.After)).ToList());

    private Task<long[]> EndTimesAsync(string card) => App.QueryAsync(async db =>
        (await db.MemberCards.Where(c => c.Id == card).Select(c => c.EndTime).ToListAsync())
            .Concat(await db.UsageEntries.Where(e => e.MemberCardId == card).Select(e => e.EndTime).ToListAsync()).ToArray());

    private async Task<ConsoleSession> SignInAsync(string user = TestCatalog.AdminUser, string password = TestCatalog.AdminPassword)
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(user, password);
        return session;
    }

    private static async Task<HttpResponseMessage> PostPageAsync(ConsoleSession session, string handler, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = await session.FormTokenAsync("/console/account");
        return await session.Http.PostAsync($"/console/members/1?handler={handler}&culture=en", new FormUrlEncodedContent(fields));
    }

    [Fact]
    public async Task AnOperatorsRefundTakesThePartnersRoadAndIsAuditedOnce()
    {
        await RefundCatalog.SellAndUseAsync(Open, "S-P", RefundCatalog.Prorated, 2, (0, "A"), (0, "A"), (1, "B"));
        var api = OperatorClient();
        var quote = JsonNode.Parse(await api.GetStringAsync("/api/v1/sales/S-P/refund"))!;
        var state = await CardStateAsync();

        var (tooMuch, problem) = await PostAsync(api, "/api/v1/sales/S-P/refund", new { refundAmt = 9m });
        Assert.Equal(state, await CardStateAsync());
        var (refunded, view) = await PostAsync(api, "/api/v1/sales/S-P/refund", new { });
        var (repeated, again) = await PostAsync(api, "/api/v1/sales/S-P/refund");
        var (other, conflict) = await PostAsync(api, "/api/v1/sales/S-P/refund", new { refundAmt = 5m });
        var partner = await Open.CallAsync("refundMncardForSale", new { saleNo = "S-P", refundAmt = "8.81" });

        Assert.Equal((8.81m, "prorated", 3, 14), (quote["allowed"]!.GetValue<decimal>(), quote["policy"]!.GetValue<string>(),
            quote["used"]!.GetValue<int>(), quote["total"]!.GetValue<int>()));
        Assert.Equal((HttpStatusCode.BadRequest, 1004), (tooMuch, problem!["code"]!.GetValue<int>()));
        Assert.Contains("8.81", problem["detail"]!.GetValue<string>());
        Assert.Equal((HttpStatusCode.OK, "2", 8.81m), (refunded, view!["status"]!.GetValue<string>(), view["refundAmt"]!.GetValue<decimal>()));
        Assert.Equal((HttpStatusCode.OK, view.ToJsonString()), (repeated, again!.ToJsonString()));
        Assert.Equal((HttpStatusCode.Conflict, 2003), (other, conflict!["code"]!.GetValue<int>()));
        Assert.Equal((0, view.ToJsonString()), (partner.Code, partner.Data!.ToJsonString()));
        var audit = Assert.Single(await AuditAsync());
        Assert.Equal(("card.refund", "operator:admin", "S-P"), (audit.Action, audit.Actor, audit.EntityId));
        Assert.Contains("\"refundAmt\":8.81", audit.After);
    }

    [Fact]
    public async Task AnOperatorsCancelTakesThePartnersRoadAndIsAuditedOnce()
    {
        var card = (await Open.SellAsync("S-1", saleTime: RefundCatalog.SaleTime)).Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await Open.UseAsync(card, "U-1", "2026-01-06 12:00:00")).Code);
        Assert.Equal(0, (await Open.UseAsync(card, "U-2", "2026-01-06 13:00:00")).Code);
        var api = OperatorClient();

        var (cancelled, entry) = await PostAsync(api, "/api/v1/uses/U-1/cancel");
        var (repeated, again) = await PostAsync(api, "/api/v1/uses/U-1/cancel?channel=hkl-test");
        var partner = await Open.CancelAsync("U-1");
        var (unknown, missing) = await PostAsync(api, "/api/v1/uses/U-none/cancel");

        Assert.Equal((HttpStatusCode.OK, 1), (cancelled, entry!["hasUsedNum"]!.GetValue<int>()));
        Assert.Equal((HttpStatusCode.OK, entry.ToJsonString()), (repeated, again!.ToJsonString()));
        Assert.Equal((0, entry.ToJsonString()), (partner.Code, partner.Data!.ToJsonString()));
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.NotNull(missing!["detail"]);
        var audit = Assert.Single(await AuditAsync());
        Assert.Equal(("card.cancel-use", "operator:admin", "U-1"), (audit.Action, audit.Actor, audit.EntityId));
        Assert.Contains("\"hasUsedNum\":2", audit.Before);
        Assert.Contains("\"hasUsedNum\":1", audit.After);
    }

    [Fact]
    public async Task AnOperatorExtendsACardToTheEndOfALaterBusinessDay()
    {
        var card = (await Open.SellAsync("S-1", saleTime: RefundCatalog.SaleTime)).Data!["id"]!.GetValue<string>();
        var before = await EndTimesAsync(card);
        var api = OperatorClient();

        var (extended, view) = await PostAsync(api, $"/api/v1/member-cards/{card}/extend", new { endDate = "2026-02-20" });

        Assert.Equal(new DateTimeOffset(2026, 2, 4, 0, 0, 0, TimeSpan.FromHours(8)).ToUnixTimeMilliseconds() - 1, before[0]);
        Assert.Equal(HttpStatusCode.OK, extended);
        Assert.Equal((EndOfFeb20, 1), (view!["endTime"]!.GetValue<long>(), view["lockVersion"]!.GetValue<int>()));
        Assert.All(await EndTimesAsync(card), end => Assert.Equal(EndOfFeb20, end));
        var audit = Assert.Single(await AuditAsync());
        Assert.Equal(("card.extend", "operator:admin", card), (audit.Action, audit.Actor, audit.EntityId));
        Assert.Contains($"\"endTime\":{before[0]}", audit.Before);
        Assert.Contains($"\"endTime\":{EndOfFeb20}", audit.After);
        Assert.Equal(0, (await Open.UseAsync(card, "U-LATE", "2026-02-04 10:00:00")).Code);
    }

    [Fact]
    public async Task ACardExtendedWhileItIsUsedKeepsEveryUseAndTheNewEnd()
    {
        var card = (await RefundCatalog.SellAndUseAsync(Open, "S-1", RefundCatalog.Prorated, 1))[0];
        var api = OperatorClient();

        var uses = Enumerable.Range(0, 7).Select(i => Open.UseAsync(card, $"U-{i}", "2026-01-06 12:00:00", product: i < 3 ? "P-A" : "P-B")).ToList();
        var extend = PostAsync(api, $"/api/v1/member-cards/{card}/extend", new { endDate = "2026-02-20" });
        await Task.WhenAll(uses);

        Assert.All(uses, u => Assert.Equal(0, u.Result.Code));
        Assert.Equal(HttpStatusCode.OK, (await extend).Status);
        Assert.Equal(7, await App.QueryAsync(db => db.UsageEntries.SumAsync(e => e.HasUsedNum)));
        Assert.All(await EndTimesAsync(card), end => Assert.Equal(EndOfFeb20, end));
    }

    [Fact]
    public async Task ACardExtendedWhileItIsRefundedIsEitherExtendedThenRefundedOrRefused()
    {
        var card = (await RefundCatalog.SellAndUseAsync(Open, "S-1", RefundCatalog.Prorated, 1))[0];

        var refund = Open.CallAsync("refundMncardForSale", new { saleNo = "S-1" });
        var (status, _) = await PostAsync(OperatorClient(), $"/api/v1/member-cards/{card}/extend", new { endDate = "2026-02-20" });

        Assert.Equal(0, (await refund).Code);
        Assert.Contains(status, new[] { HttpStatusCode.OK, HttpStatusCode.UnprocessableEntity });
        Assert.Equal(status == HttpStatusCode.OK ? 1 : 0, (await AuditAsync()).Count);
        Assert.All(await App.QueryAsync(db => db.UsageEntries.Select(e => e.Status).ToListAsync()), s => Assert.Equal(2, s));
    }

    [Fact]
    public async Task BadInputIsAClearProblemAndChangesNothing()
    {
        var card = (await Open.SellAsync("S-1", saleTime: RefundCatalog.SaleTime)).Data!["id"]!.GetValue<string>();
        var refunded = (await Open.SellAsync("S-2", saleTime: RefundCatalog.SaleTime)).Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await Open.CallAsync("refundMncardForSale", new { saleNo = "S-2" })).Code);
        var api = OperatorClient();
        var state = await CardStateAsync();

        var answers = new List<(string What, HttpStatusCode Status, JsonNode? Body)>();
        foreach (var (what, path, body) in new (string, string, object?)[]
        {
            ("negative amount", "/api/v1/sales/S-1/refund", new { refundAmt = -1m }),
            ("three decimals", "/api/v1/sales/S-1/refund", new { refundAmt = 1.234m }),
            ("more than paid", "/api/v1/sales/S-1/refund", new { refundAmt = 11.23m }),
            ("unknown sale", "/api/v1/sales/S-none/refund", new { }),
            ("unknown use", "/api/v1/uses/U-none/cancel", null),
            ("unknown card", "/api/v1/member-cards/NO-SUCH-CARD/extend", new { endDate = "2026-03-01" }),
            ("earlier date", $"/api/v1/member-cards/{card}/extend", new { endDate = "2026-01-20" }),
            ("same date", $"/api/v1/member-cards/{card}/extend", new { endDate = "2026-02-03" }),
            ("no date", $"/api/v1/member-cards/{card}/extend", new { }),
            ("not a date", $"/api/v1/member-cards/{card}/extend", new { endDate = "2026-02-30" }),
            ("refunded card", $"/api/v1/member-cards/{refunded}/extend", new { endDate = "2026-03-01" }),
        })
        {
            var (status, problem) = await PostAsync(api, path, body);
            answers.Add((what, status, problem));
        }

        Assert.All(answers, a => Assert.True((int)a.Status is >= 400 and < 500 && a.Body?["title"] is not null, $"{a.What}: {a.Status}"));
        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.NotFound, HttpStatusCode.NotFound,
            HttpStatusCode.NotFound, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest,
            HttpStatusCode.UnprocessableEntity], answers.Select(a => a.Status));
        Assert.Contains("2026-02-03", answers[6].Body!["detail"]!.GetValue<string>());
        Assert.Equal(state, await CardStateAsync());
        Assert.Empty(await AuditAsync());
    }

    [Fact]
    public async Task AViewerCanNeitherRefundCancelNorExtend()
    {
        var card = (await Open.SellAsync("S-1", saleTime: RefundCatalog.SaleTime)).Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await Open.UseAsync(card, "U-1", "2026-01-06 12:00:00")).Code);
        var viewer = OperatorClient(TestCatalog.ViewerToken);
        var session = await SignInAsync(TestCatalog.ViewerUser, TestCatalog.ViewerPassword);
        var state = await CardStateAsync();

        var (refund, _) = await PostAsync(viewer, "/api/v1/sales/S-1/refund", new { });
        var (cancel, _) = await PostAsync(viewer, "/api/v1/uses/U-1/cancel");
        var (extend, _) = await PostAsync(viewer, $"/api/v1/member-cards/{card}/extend", new { endDate = "2026-03-01" });
        var page = await session.Http.GetStringAsync("/console/members/1");
        using var pageRefund = await PostPageAsync(session, "Refund", new() { ["saleNo"] = "S-1", ["channel"] = "hkl-test" });
        using var pageCancel = await PostPageAsync(session, "CancelUse", new() { ["useNo"] = "U-1", ["channel"] = "hkl-test" });
        using var pageExtend = await PostPageAsync(session, "Extend", new() { ["cardId"] = card, ["endDate"] = "2026-03-01" });

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (refund, cancel, extend));
        Assert.Contains("data-use=\"U-1\"", page);
        Assert.DoesNotContain("refund-form", page);
        Assert.DoesNotContain("extend-form", page);
        Assert.DoesNotContain("cancel-use", page);
        Assert.All([pageRefund, pageCancel, pageExtend], r => Assert.Equal("/console/denied", r.Headers.Location?.AbsolutePath));
        Assert.Equal(state, await CardStateAsync());
        Assert.Empty(await AuditAsync());
    }

    [Fact]
    public async Task TheMemberPageProposesWhatThePolicyAllowsAndRefunds()
    {
        await RefundCatalog.SellAndUseAsync(Open, "S-P", RefundCatalog.Prorated, 1, (0, "A"));
        var session = await SignInAsync();

        var page = await session.Http.GetStringAsync("/console/members/1?culture=en");
        using var tooMuch = await PostPageAsync(session, "Refund", new() { ["saleNo"] = "S-P", ["channel"] = "hkl-test", ["refundAmt"] = "9.62" });
        var refusal = await tooMuch.Content.ReadAsStringAsync();
        using var refunded = await PostPageAsync(session, "Refund", new() { ["saleNo"] = "S-P", ["channel"] = "hkl-test", ["refundAmt"] = "9.61" });

        // 11.22 × 6 / 7 = 9.617…: the form proposes 9.61.
        Assert.Contains("class=\"refund-amt\" value=\"9.61\"", page);
        Assert.Equal(HttpStatusCode.OK, tooMuch.StatusCode);
        Assert.Contains("at most 9.61", refusal);
        Assert.Equal(HttpStatusCode.Redirect, refunded.StatusCode);
        Assert.Equal(9.61m, await App.QueryAsync(db => db.CardSales.Select(s => s.RefundAmt).SingleAsync()));
        Assert.Equal(("card.refund", "operator:admin"), (await AuditAsync()) is [var a] ? (a.Action, a.Actor) : default);
    }

    [Fact]
    public async Task TheMemberPageCancelsAUse()
    {
        var card = (await Open.SellAsync("S-1", saleTime: RefundCatalog.SaleTime)).Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await Open.UseAsync(card, "U-1", "2026-01-06 12:00:00")).Code);
        var session = await SignInAsync();

        var page = await session.Http.GetStringAsync("/console/members/1?culture=en");
        using var cancelled = await PostPageAsync(session, "CancelUse", new() { ["useNo"] = "U-1", ["channel"] = "hkl-test" });
        using var unknown = await PostPageAsync(session, "CancelUse", new() { ["useNo"] = "U-none", ["channel"] = "hkl-test" });

        Assert.Contains("cancel-use", page);
        Assert.Equal((HttpStatusCode.Redirect, HttpStatusCode.OK), (cancelled.StatusCode, unknown.StatusCode));
        Assert.Contains("no use U-none", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(0, await App.QueryAsync(db => db.UsageEntries.Select(e => e.HasUsedNum).SingleAsync()));
        Assert.Equal(["card.cancel-use"], (await AuditAsync()).Select(a => a.Action));
    }

    [Fact]
    public async Task TheMemberPageExtendsACardAndSaysWhyAnEarlierDateIsRefused()
    {
        var card = (await Open.SellAsync("S-1", saleTime: RefundCatalog.SaleTime)).Data!["id"]!.GetValue<string>();
        var session = await SignInAsync();

        var page = await session.Http.GetStringAsync("/console/members/1?culture=en");
        using var earlier = await PostPageAsync(session, "Extend", new() { ["cardId"] = card, ["endDate"] = "2026-01-31" });
        var refusal = await earlier.Content.ReadAsStringAsync();
        var unchanged = await EndTimesAsync(card);
        using var extended = await PostPageAsync(session, "Extend", new() { ["cardId"] = card, ["endDate"] = "2026-02-20" });

        Assert.Contains("name=\"endDate\" type=\"date\" value=\"2026-02-03\"", page);
        Assert.Equal(HttpStatusCode.OK, earlier.StatusCode);
        Assert.Contains("current end date 2026-02-03", refusal);
        Assert.DoesNotContain(EndOfFeb20, unchanged);
        Assert.Equal(HttpStatusCode.Redirect, extended.StatusCode);
        Assert.All(await EndTimesAsync(card), end => Assert.Equal(EndOfFeb20, end));
        Assert.Equal(["card.extend"], (await AuditAsync()).Select(a => a.Action));
    }
}

public sealed class StaffCardActionTestsOnSqlite() : StaffCardActionTests(Backend.Sqlite);

public sealed class StaffCardActionTestsOnPostgres() : StaffCardActionTests(Backend.Postgres);
