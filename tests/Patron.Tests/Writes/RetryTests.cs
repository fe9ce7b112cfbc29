using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Writes;

/// <summary>
/// A retry of a request that was answered gets its first answer, even once the same request would
/// now be refused, and writes nothing; the same key with other content is 1006 (points, uses) or
/// 2003 (sales, refunds). The card is sold on 2026-01-05: 2 uses a 7-day cycle, 8 in all; the
/// clock stands on 2026-01-08, so the card is still effective (status "1") unless refunded.
/// </summary>
public abstract class RetryTests(Backend backend) : PatronTest(backend)
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 8, 9, 0, 0, TimeSpan.FromHours(8)).ToUniversalTime());

    protected override TimeProvider? Clock => _clock;

    protected OpenApiClient OpenApi => new(App.CreateClient(), _clock);

    private async Task<(string Sale, string Card)> SellAsync(string saleNo = "S-1")
    {
        var sold = await OpenApi.SellAsync(saleNo, saleTime: "2026-01-05 10:00:00");
        Assert.Equal(0, sold.Code);
        return (saleNo, sold.Data!["id"]!.GetValue<string>());
    }

    private Task<OpenApiAnswer> RefundAsync(string saleNo, string? refundAmt = null) => refundAmt is null
        ? OpenApi.CallAsync("refundMncardForSale", new { saleNo })
        : OpenApi.CallAsync("refundMncardForSale", new { saleNo, refundAmt });

    [Fact]
    public async Task AnExchangeRetriedOnceTheBalanceIsTooLowGetsItsFirstAnswer()
    {
        Assert.Equal(0, (await Partner.AddPointsAsync(3, "P", 100, "top-up", key: "top-up")).Errcode);
        var first = await Partner.AddPointsAsync(3, "E", -80, "swap", key: "k");
        var rows = await LedgerCountAsync();

        var retry = await Partner.AddPointsAsync(3, "E", -80, "swap", key: "k");
        var other = await Partner.AddPointsAsync(3, "E", -90, "swap", key: "k");

        Assert.Equal((0, 20L), (first.Errcode, first.TagLong("ValuePointAfter")));
        Assert.Equal(first.Tag!.ToJsonString(), retry.Tag!.ToJsonString());
        Assert.Equal(0, retry.Errcode);
        Assert.Equal(1006, other.Errcode);
        Assert.Equal(rows, await LedgerCountAsync());
        Assert.Equal(20, await BalanceAsync(3));
    }

    [Fact]
    public async Task AUseRetriedOnceItsCycleIsFullGetsItsFirstAnswer()
    {
        var (_, card) = await SellAsync();
        Assert.Equal(0, (await OpenApi.UseAsync(card, "U1", "2026-01-06 12:00:00")).Code);
        var second = await OpenApi.UseAsync(card, "U2", "2026-01-07 12:00:00");
        var state = await CardStateAsync();

        var retry = await OpenApi.UseAsync(card, "U2", "2026-01-07 12:00:00");
        var other = await OpenApi.UseAsync(card, "U2", "2026-01-07 12:00:00", posid: "POS-2");
        var third = await OpenApi.UseAsync(card, "U3", "2026-01-07 12:00:00");

        Assert.Equal(0, second.Code);
        Assert.Equal((0, second.Data!.ToJsonString()), (retry.Code, retry.Data!.ToJsonString()));
        Assert.Equal(1006, other.Code);
        Assert.Equal(2103, third.Code);
        Assert.Equal(state, await CardStateAsync());
    }

    [Fact]
    public async Task ACancelRetriedAfterARefundGetsItsFirstAnswer()
    {
        var (sale, card) = await SellAsync();
        Assert.Equal(0, (await OpenApi.UseAsync(card, "U1", "2026-01-06 12:00:00")).Code);
        var cancel = await OpenApi.CancelAsync("U1");
        Assert.Equal(0, (await RefundAsync(sale)).Code);
        var state = await CardStateAsync();

        var retry = await OpenApi.CancelAsync("U1");

        Assert.Equal((0, "1", 0), (cancel.Code, cancel.Data!["status"]!.GetValue<string>(), cancel.Data["hasUsedNum"]!.GetValue<int>()));
        Assert.Equal((0, cancel.Data.ToJsonString()), (retry.Code, retry.Data!.ToJsonString()));
        Assert.Equal(state, await CardStateAsync());
    }

    [Fact]
    public async Task ARefundRetriedAfterACancelGetsItsFirstAnswerAndAnotherAmountIs2003()
    {
        var (sale, card) = await SellAsync();
        Assert.Equal(0, (await OpenApi.UseAsync(card, "U1", "2026-01-06 12:00:00")).Code);
        var refund = await RefundAsync(sale, "5.00");
        Assert.Equal(0, (await OpenApi.CancelAsync("U1")).Code);
        var state = await CardStateAsync();

        var retry = await RefundAsync(sale, "5.00");
        var other = await RefundAsync(sale, "6.00");
        var whole = await RefundAsync(sale);

        Assert.Equal((0, "2", 1), (refund.Code, refund.Data!["status"]!.GetValue<string>(),
            refund.Data["cards"]![0]!["memberUsedList"]![0]!["hasUsedNum"]!.GetValue<int>()));
        Assert.Equal((0, refund.Data.ToJsonString()), (retry.Code, retry.Data!.ToJsonString()));
        Assert.Equal((2003, 2003), (other.Code, whole.Code));
        Assert.Equal(state, await CardStateAsync());
        Assert.Equal(5.00m, await App.QueryAsync(db => db.CardSales.Select(s => s.RefundAmt).SingleAsync()));
    }

    [Fact]
    public async Task ASaleRetriedAfterItsCardWentOffSaleGetsItsFirstAnswer()
    {
        var first = await OpenApi.SellAsync("S-1", saleTime: "2026-01-05 10:00:00");
        var off = await OperatorClient().PostAsync($"/api/v1/cards/{TestCatalog.Card}/off-sale", null);
        Assert.True(off.IsSuccessStatusCode, $"{off.StatusCode}");
        var state = await CardStateAsync();

        var retry = await OpenApi.SellAsync("S-1", saleTime: "2026-01-05 10:00:00");
        var other = await OpenApi.SellAsync("S-1", saleTime: "2026-01-05 10:00:00", num: 2);
        var fresh = await OpenApi.SellAsync("S-2", saleTime: "2026-01-05 10:00:00");

        Assert.Equal((0, first.Data!.ToJsonString()), (retry.Code, retry.Data!.ToJsonString()));
        Assert.Equal((2003, 2002), (other.Code, fresh.Code));
        Assert.Equal(state, await CardStateAsync());
    }

    [Fact]
    public async Task ASaleRetriedAfterItsMembersCodeChangedGetsItsFirstAnswer()
    {
        var first = await OpenApi.SellAsync("S-1", saleTime: "2026-01-05 10:00:00", memberId: "M0004");
        await App.QueryAsync(db => db.Members.Where(m => m.Id == 4).ExecuteUpdateAsync(u => u.SetProperty(m => m.Code, "M0004-NEW")));
        var state = await CardStateAsync();

        var retry = await OpenApi.SellAsync("S-1", saleTime: "2026-01-05 10:00:00", memberId: "M0004");
        var fresh = await OpenApi.SellAsync("S-2", saleTime: "2026-01-05 10:00:00", memberId: "M0004");

        Assert.Equal((0, first.Data!.ToJsonString()), (retry.Code, retry.Data!.ToJsonString()));
        Assert.Equal(2001, fresh.Code);
        Assert.Equal(state, await CardStateAsync());
    }

    [Fact]
    public async Task AnOperatorAdjustmentIsAuditedInItsOwnTransaction()
    {
        var adjusted = await OperatorClient().PostAsJsonAsync("/api/v1/members/6/points", new { busiType = "C", busiBillNum = "fix", changeValue = 30 });
        var refused = await OperatorClient().PostAsJsonAsync("/api/v1/members/6/points", new { busiType = "E", busiBillNum = "fix", changeValue = -31 });

        Assert.Equal(System.Net.HttpStatusCode.Created, adjusted.StatusCode);
        Assert.False(refused.IsSuccessStatusCode);
        var audit = await App.QueryAsync(db => db.AuditLog.Where(a => a.Action == "points.adjust").ToListAsync());
        Assert.Equal(("6", $"operator:{TestCatalog.AdminUser}"), (Assert.Single(audit).EntityId, audit[0].Actor));
        Assert.Contains("\"balance\":30", audit[0].After);
        Assert.Equal(30, await BalanceAsync(6));
    }
}

public sealed class RetryTestsOnSqlite() : RetryTests(Backend.Sqlite);

public sealed class RetryTestsOnPostgres() : RetryTests(Backend.Postgres);
