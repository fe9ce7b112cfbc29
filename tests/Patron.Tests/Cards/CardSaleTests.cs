using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Cards;

public abstract partial class CardSaleTests(Backend backend) : PatronTest(backend)
{
    private readonly LogCapture _logs = new();

    private OpenApiClient OpenApi => new(App.CreateClient());

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.ConfigureLogging(l => l.AddProvider(_logs));

    // Every field name of the seed's response table, for the card and for each memberUsedList entry.
    private static readonly string[] SeedCardFields =
        ["cardInfoId", "memberUsedList", "saleOrgCode", "payAmt", "saleNo", "saleTime", "saleUser", "createTime", "saleChannel",
         "lockVersion", "createUser", "beginTime", "endTime", "id", "memberId", "status"];

    private static readonly string[] SeedEntryFields =
        ["lastCycle", "saleOrgCode", "totalUsedNum", "lastCycleUsed", "posid", "cycleDays", "saleUser", "cardProductName", "createTime",
         "memberCardId", "cycleNum", "hasUsedNum", "lockVersion", "cardProductId", "createUser", "beginTime", "endTime", "id", "memberId", "status"];

    [GeneratedRegex("^[0-9A-Z]{13}$")]
    private static partial Regex CodeShape();

    [Fact]
    public async Task ASaleIssuesNumCardsWithUniqueCodesAndOneEntryPerProduct()
    {
        var sale = await OpenApi.SellAsync("S-1", num: 3);

        Assert.Equal((0, "操作成功"), (sale.Code, sale.Msg));
        var data = sale.Data!;
        var codes = data["list"]![0]!["cpnCodes"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Equal(TestCatalog.Card, data["list"]![0]!["cpnId"]!.GetValue<string>());
        Assert.Equal(3, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches(CodeShape(), c));
        Assert.Equal(codes, data["cards"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        Assert.Equal(codes[0], data["id"]!.GetValue<string>());
        Assert.All(data["cards"]!.AsArray(), c => Assert.Single(c!["memberUsedList"]!.AsArray()));
        Assert.Equal(3, await App.QueryAsync(db => db.MemberCards.CountAsync()));
        Assert.Equal(3, await App.QueryAsync(db => db.UsageEntries.CountAsync()));
    }

    [Fact]
    public async Task TheAnswerHasEveryFieldOfTheSeedsResponseTable()
    {
        var today = TimeZoneInfo.ConvertTime(TestWorld.Clock.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).ToString("yyyy-MM-dd");
        var data = (await OpenApi.SellAsync("S-2", saleTime: $"{today} 00:00:00", num: 2)).Data!.AsObject(); // effective: status "1"

        Assert.All(SeedCardFields, f => Assert.True(data.ContainsKey(f), $"data lacks {f}"));
        foreach (var card in data["cards"]!.AsArray())
        {
            Assert.All(SeedCardFields, f => Assert.True(card!.AsObject().ContainsKey(f), $"card lacks {f}"));
            foreach (var entry in card!["memberUsedList"]!.AsArray())
                Assert.All(SeedEntryFields, f => Assert.True(entry!.AsObject().ContainsKey(f), $"entry lacks {f}"));
        }
        var first = data["memberUsedList"]![0]!;
        Assert.Equal(("P-NOODLE", "招牌牛肉面", 8, 7, 2, 0, "1"),
            (first["cardProductId"]!.GetValue<string>(), first["cardProductName"]!.GetValue<string>(), first["totalUsedNum"]!.GetValue<int>(),
             first["cycleDays"]!.GetValue<int>(), first["cycleNum"]!.GetValue<int>(), first["hasUsedNum"]!.GetValue<int>(), first["status"]!.GetValue<string>()));
        Assert.Equal((11.22m, "S-2", "hkl-test", "M0001", "526", "1345"),
            (data["payAmt"]!.GetValue<decimal>(), data["saleNo"]!.GetValue<string>(), data["saleChannel"]!.GetValue<string>(),
             data["memberId"]!.GetValue<string>(), data["saleOrgCode"]!.GetValue<string>(), data["saleUser"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ValidityRunsFromMidnightOfTheSaleDayInShanghaiForValidDaysLess1Ms()
    {
        var data = (await OpenApi.SellAsync("S-3", saleTime: "2026-01-16 16:02:15")).Data!;

        var begin = new DateTimeOffset(2026, 1, 16, 0, 0, 0, TimeSpan.FromHours(8)).ToUnixTimeMilliseconds();
        Assert.Equal(begin, data["beginTime"]!.GetValue<long>());
        Assert.Equal(begin + 30 * 86_400_000L - 1, data["endTime"]!.GetValue<long>());
        Assert.Equal(new DateTimeOffset(2026, 1, 16, 16, 2, 15, TimeSpan.FromHours(8)).ToUnixTimeMilliseconds(), data["saleTime"]!.GetValue<long>());
        Assert.Equal(begin, data["memberUsedList"]![0]!["beginTime"]!.GetValue<long>());
    }

    [Fact]
    public async Task RepeatingASaleReturnsTheFirstResultAndIssuesNothing()
    {
        var first = await OpenApi.SellAsync("S-4", num: 2);
        var again = await OpenApi.SellAsync("S-4", num: 2);

        Assert.Equal(first.Data!.ToJsonString(), again.Data!.ToJsonString());
        Assert.Equal(2, await App.QueryAsync(db => db.MemberCards.CountAsync()));
    }

    [Fact]
    public async Task ASaleStoredByAnEarlierVersionIsRepeatedAsStored()
    {
        var first = await OpenApi.SellAsync("S-7");
        // Earlier versions kept the answer with every letter outside ASCII escaped (\uXXXX).
        var escaped = first.Data!.ToJsonString();
        Assert.Contains("\\u", escaped);
        await App.QueryAsync(db => db.CardSales.Where(s => s.SaleNo == "S-7").ExecuteUpdateAsync(u => u.SetProperty(s => s.ResultJson, escaped)));

        var again = await OpenApi.SellAsync("S-7");

        Assert.Equal(0, again.Code);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(first.Data, again.Data));
        Assert.Equal(1, await App.QueryAsync(db => db.MemberCards.CountAsync()));
    }

    [Fact]
    public async Task ASaleKeepsOnlyItsCardsAndARetryRebuildsTheWholeAnswer()
    {
        var first = await OpenApi.SellAsync("S-9", num: 2, payAmt: "10.00");
        var kept = await App.QueryAsync(db => db.CardSales.Where(s => s.SaleNo == "S-9").Select(s => s.ResultJson).SingleAsync());

        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(first.Data!["cards"], System.Text.Json.Nodes.JsonNode.Parse(kept)), "the sale keeps its cards");
        var again = await OpenApi.SellAsync("S-9", num: 2, payAmt: "10.00");

        Assert.Equal(first.Data!.ToJsonString(), again.Data!.ToJsonString());
        Assert.Equal("10.00", again.Data!["payAmt"]!.ToJsonString());
        Assert.Equal(2, await App.QueryAsync(db => db.MemberCards.CountAsync()));
    }

    [Theory]
    [InlineData("{\"id\":")] // the whole answer, as earlier versions kept it
    [InlineData("[{\"id\":")] // the cards, as this one keeps them
    public async Task AKeptAnswerThatIsNotJsonIsA5000EnvelopeNotABrokenOne(string broken)
    {
        await OpenApi.SellAsync("S-8");
        await App.QueryAsync(db => db.CardSales.Where(s => s.SaleNo == "S-8").ExecuteUpdateAsync(u => u.SetProperty(s => s.ResultJson, broken)));

        var again = await OpenApi.SellAsync("S-8"); // the envelope is parsed whole, or this throws

        Assert.Equal((System.Net.HttpStatusCode.InternalServerError, 5000, null), (again.Status, again.Code, again.Data));
        Assert.Equal(1, await App.QueryAsync(db => db.MemberCards.CountAsync()));
        if (broken.StartsWith('['))
            Assert.Contains(_logs.Lines, l => l.StartsWith("Error ", StringComparison.Ordinal)
                && l.Contains("InvalidDataException: the answer kept for saleNo S-8 cannot be read", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheSameSaleNoWithOtherContentIs2003()
    {
        await OpenApi.SellAsync("S-5", num: 2);
        var other = await OpenApi.SellAsync("S-5", num: 3);
        var otherAmount = await OpenApi.SellAsync("S-5", num: 2, payAmt: "11.23");

        Assert.Equal((2003, 2003), (other.Code, otherAmount.Code));
        Assert.Equal(2, await App.QueryAsync(db => db.MemberCards.CountAsync()));
    }

    [Fact]
    public async Task ConcurrentIdenticalSalesIssueOneSetOfCards()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => OpenApi.SellAsync("S-6", num: 3)));

        Assert.All(answers, a => Assert.Equal(0, a.Code));
        Assert.Single(answers.Select(a => a.Data!["list"]!.ToJsonString()).Distinct());
        Assert.Equal(3, await App.QueryAsync(db => db.MemberCards.CountAsync()));
    }

    [Theory]
    [InlineData("nope", "M0001", "1", "11.22", "2026-01-05 10:00:00", 2002)]
    [InlineData(TestCatalog.OffSaleCard, "M0001", "1", "11.22", "2026-01-05 10:00:00", 2002)]
    [InlineData(TestCatalog.Card, "NOBODY", "1", "11.22", "2026-01-05 10:00:00", 2001)]
    [InlineData(TestCatalog.Card, "M0001", "0", "11.22", "2026-01-05 10:00:00", 1004)]
    [InlineData(TestCatalog.Card, "M0001", "101", "11.22", "2026-01-05 10:00:00", 1004)]
    [InlineData(TestCatalog.Card, "M0001", "1", "abc", "2026-01-05 10:00:00", 1004)]
    [InlineData(TestCatalog.Card, "M0001", "1", "-1", "2026-01-05 10:00:00", 1004)]
    [InlineData(TestCatalog.Card, "M0001", "1", "1.234", "2026-01-05 10:00:00", 1004)]
    [InlineData(TestCatalog.Card, "M0001", "1", "11.22", "2026/01/05", 1004)]
    public async Task ASaleThatCannotBeMadeChangesNothing(string card, string member, string num, string payAmt, string saleTime, int code)
    {
        var answer = await OpenApi.CallAsync("sendMncardForSale",
            new { cardInfoId = card, saleTime, num, payAmt, saleNo = "S-7", memberId = member });

        Assert.Equal(code, answer.Code);
        Assert.Equal(0, await App.QueryAsync(db => db.CardSales.CountAsync()));
    }

    [Fact]
    public async Task TheMemberMayBeNamedByItsIntegerIdAndNumbersMayBeNumbers()
    {
        var answer = await OpenApi.CallAsync("sendMncardForSale",
            """{"cardInfoId":"L68F353AD0019","saleTime":"2026-01-05 10:00:00","num":2,"payAmt":11.22,"saleNo":"S-8","memberId":"3"}""");

        Assert.Equal((0, "M0003", 2), (answer.Code, answer.Data!["memberId"]!.GetValue<string>(), answer.Data["cards"]!.AsArray().Count));
    }

    [Fact]
    public async Task AnAesGcmChannelSellsToo()
    {
        var aes = new OpenApiClient(App.CreateClient()) { Channel = "aes-partner", Key = TestCatalog.AesKey, Cipher = OpenApiCipher.AesGcm };

        var answer = await aes.SellAsync("S-9");

        Assert.Equal(0, answer.Code);
    }

    [Fact]
    public async Task RefundingVoidsTheSalesCardsAndEntriesAndBlocksUse()
    {
        var sale = await OpenApi.SellAsync("S-10", num: 2);
        var card = sale.Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await OpenApi.UseAsync(card, "U-1", "2026-01-05 12:00:00")).Code);

        var refund = await OpenApi.CallAsync("refundMncardForSale", new { saleNo = "S-10", refundAmt = "11.22" });
        var twice = await OpenApi.CallAsync("refundMncardForSale", new { saleNo = "S-10" });
        var use = await OpenApi.UseAsync(card, "U-2", "2026-01-06 12:00:00");

        Assert.Equal((0, "2"), (refund.Code, refund.Data!["status"]!.GetValue<string>()));
        Assert.All(refund.Data["cards"]!.AsArray(), c =>
        {
            Assert.Equal("2", c!["status"]!.GetValue<string>());
            Assert.All(c["memberUsedList"]!.AsArray(), e => Assert.Equal("2", e!["status"]!.GetValue<string>()));
        });
        Assert.Equal(refund.Data.ToJsonString(), twice.Data!.ToJsonString());
        Assert.Equal(2102, use.Code);
        Assert.Equal(2101, (await OpenApi.CallAsync("refundMncardForSale", new { saleNo = "S-none" })).Code);
    }

    [Fact]
    public async Task QueryingAMemberListsItsCardsWithUsage()
    {
        await OpenApi.SellAsync("S-11", num: 2, memberId: "M0002");
        var card = (await OpenApi.SellAsync("S-12", memberId: "M0002")).Data!["id"]!.GetValue<string>();
        await OpenApi.UseAsync(card, "U-3", "2026-01-05 12:00:00");

        var byCode = await OpenApi.CallAsync("queryMncardByMember", new { memberId = "M0002" });
        var byId = await OpenApi.CallAsync("queryMncardByMember", new { memberId = "2" });

        Assert.Equal(3, byCode.Data!.AsArray().Count);
        Assert.Equal(byCode.Data.ToJsonString(), byId.Data!.ToJsonString());
        var used = byCode.Data.AsArray().Single(c => c!["id"]!.GetValue<string>() == card)!;
        Assert.Equal(1, used["memberUsedList"]![0]!["hasUsedNum"]!.GetValue<int>());
        Assert.Equal(2001, (await OpenApi.CallAsync("queryMncardByMember", new { memberId = "NOBODY" })).Code);
    }

    [Fact]
    public async Task ARestartKeepsSalesCardsAndUses()
    {
        var sale = await OpenApi.SellAsync("S-13", num: 2);
        var card = sale.Data!["id"]!.GetValue<string>();
        await OpenApi.UseAsync(card, "U-4", "2026-01-05 12:00:00");
        await App.DisposeAsync();

        var restarted = new OpenApiClient(StartApp().CreateClient());
        var replay = await restarted.SellAsync("S-13", num: 2);
        var useReplay = await restarted.UseAsync(card, "U-4", "2026-01-05 12:00:00");
        var next = await restarted.UseAsync(card, "U-5", "2026-01-05 13:00:00");

        Assert.Equal(sale.Data.ToJsonString(), replay.Data!.ToJsonString());
        Assert.Equal(1, useReplay.Data!["hasUsedNum"]!.GetValue<int>());
        Assert.Equal((0, 2), (next.Code, next.Data!["hasUsedNum"]!.GetValue<int>()));
    }
}

public sealed class CardSaleTestsOnSqlite() : CardSaleTests(Backend.Sqlite);

public sealed class CardSaleTestsOnPostgres() : CardSaleTests(Backend.Postgres);
