using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Cards;

/// <summary>
/// Uses against the SPEC's cycle rules. The card (30 days, 8 uses, 2 per 7-day cycle) is sold on
/// Monday 2026-01-05 in Asia/Shanghai, so cycle 1 is 01-05..01-11 and cycle 2 starts 01-12 00:00.
/// </summary>
public abstract class CardUseTests(Backend backend) : PatronTest(backend)
{
    protected OpenApiClient OpenApi => new(App.CreateClient());

    protected async Task<string> SellAsync(string saleNo = "S-1") =>
        (await OpenApi.SellAsync(saleNo, saleTime: "2026-01-05 10:00:00")).Data!["id"]!.GetValue<string>();

    [Fact]
    public async Task TwoUsesFitACycleTheThirdIsRefusedAndTheNextCycleStartsFromZero()
    {
        var card = await SellAsync();

        var first = await OpenApi.UseAsync(card, "U-1", "2026-01-05 12:00:00");
        var second = await OpenApi.UseAsync(card, "U-2", "2026-01-11 23:59:59");
        var third = await OpenApi.UseAsync(card, "U-3", "2026-01-11 23:59:59");
        var nextCycle = await OpenApi.UseAsync(card, "U-4", "2026-01-12 00:00:00");

        Assert.Equal((0, 1, 1, 1), (first.Code, first.Data!["hasUsedNum"]!.GetValue<int>(), first.Data["lastCycle"]!.GetValue<int>(), first.Data["lastCycleUsed"]!.GetValue<int>()));
        Assert.Equal((0, 2, 1, 2), (second.Code, second.Data!["hasUsedNum"]!.GetValue<int>(), second.Data["lastCycle"]!.GetValue<int>(), second.Data["lastCycleUsed"]!.GetValue<int>()));
        Assert.Equal(2103, third.Code);
        Assert.Equal((0, 3, 2, 1), (nextCycle.Code, nextCycle.Data!["hasUsedNum"]!.GetValue<int>(), nextCycle.Data["lastCycle"]!.GetValue<int>(), nextCycle.Data["lastCycleUsed"]!.GetValue<int>()));
        Assert.Equal(("POS-1", 3), (nextCycle.Data["posid"]!.GetValue<string>(), nextCycle.Data["lockVersion"]!.GetValue<int>()));
    }

    [Fact]
    public async Task WhenAllUsesAreSpentTheNextIs2104()
    {
        var card = await SellAsync();
        var days = new[] { "01-05", "01-06", "01-12", "01-13", "01-19", "01-20", "01-26", "01-27" };
        foreach (var (day, i) in days.Select((d, i) => (d, i)))
            Assert.Equal(0, (await OpenApi.UseAsync(card, $"U-{i}", $"2026-{day} 12:00:00")).Code);

        var ninth = await OpenApi.UseAsync(card, "U-9", "2026-02-02 12:00:00");

        Assert.Equal(2104, ninth.Code);
    }

    [Theory]
    [InlineData("2026-01-04 23:59:59")]
    [InlineData("2026-02-04 00:00:00")]
    public async Task OutsideBeginAndEndTimeAUseIs2102(string useTime)
    {
        var card = await SellAsync();

        var answer = await OpenApi.UseAsync(card, "U-1", useTime);

        Assert.Equal(2102, answer.Code);
        Assert.Equal(0, await App.QueryAsync(db => db.CardUses.CountAsync()));
    }

    [Fact]
    public async Task TheLastMillisecondOfValidityStillCounts()
    {
        var card = await SellAsync();

        Assert.Equal(0, (await OpenApi.UseAsync(card, "U-1", "2026-02-03 23:59:59")).Code);
    }

    [Fact]
    public async Task ALateUseCountsInItsOwnCycleAndLastCycleStaysTheLatest()
    {
        var card = await SellAsync();
        await OpenApi.UseAsync(card, "U-1", "2026-01-13 09:00:00");
        await OpenApi.UseAsync(card, "U-2", "2026-01-13 10:00:00");

        var late = await OpenApi.UseAsync(card, "U-3", "2026-01-06 09:00:00");   // an offline POS catching up
        var cycle2Full = await OpenApi.UseAsync(card, "U-4", "2026-01-14 09:00:00");

        Assert.Equal((0, 3, 2, 2), (late.Code, late.Data!["hasUsedNum"]!.GetValue<int>(), late.Data["lastCycle"]!.GetValue<int>(), late.Data["lastCycleUsed"]!.GetValue<int>()));
        Assert.Equal(2103, cycle2Full.Code);
    }

    [Fact]
    public async Task ALateUseIntoAnEarlierCycleThatIsFullIs2103UntilOneOfItsUsesIsCancelled()
    {
        var card = await SellAsync();
        Assert.Equal(0, (await OpenApi.UseAsync(card, "U-1", "2026-01-05 12:00:00")).Code);
        Assert.Equal(0, (await OpenApi.UseAsync(card, "U-2", "2026-01-06 12:00:00")).Code);
        Assert.Equal(0, (await OpenApi.UseAsync(card, "U-3", "2026-01-13 12:00:00")).Code); // cycle 1 is now an earlier cycle

        var late = await OpenApi.UseAsync(card, "U-4", "2026-01-07 12:00:00"); // its two uses are in the uses table, not in the entry

        Assert.Equal(2103, late.Code);
        Assert.Equal(0, (await OpenApi.CancelAsync("U-1")).Code);
        var freed = await OpenApi.UseAsync(card, "U-5", "2026-01-07 12:00:00"); // a cancelled use no longer counts
        Assert.Equal((0, 3, 2, 1), (freed.Code, freed.Data!["hasUsedNum"]!.GetValue<int>(), freed.Data["lastCycle"]!.GetValue<int>(), freed.Data["lastCycleUsed"]!.GetValue<int>()));
    }

    [Fact]
    public async Task AUseFromTheFutureIsInvalid()
    {
        var card = await SellAsync();
        var future = TestWorld.Clock.GetUtcNow().ToOffset(TimeSpan.FromHours(8)).AddMinutes(10).ToString("yyyy-MM-dd HH:mm:ss");

        var answer = await OpenApi.UseAsync(card, "U-1", future);

        Assert.Equal(1004, answer.Code);
        Assert.StartsWith("useTime", answer.Msg);
    }

    [Fact]
    public async Task AUseNoCountsOnceAndOtherContentUnderItIsRefused()
    {
        var card = await SellAsync();
        var first = await OpenApi.UseAsync(card, "U-1", "2026-01-05 12:00:00");
        var again = await OpenApi.UseAsync(card, "U-1", "2026-01-05 12:00:00");
        var other = await OpenApi.UseAsync(card, "U-1", "2026-01-06 12:00:00");

        Assert.Equal(first.Data!.ToJsonString(), again.Data!.ToJsonString());
        Assert.Equal(1006, other.Code);
        Assert.Equal(1, await App.QueryAsync(db => db.UsageEntries.Select(e => e.HasUsedNum).SingleAsync()));
    }

    [Fact]
    public async Task CancellingGivesTheUseBackAndTwiceIsANoOp()
    {
        var card = await SellAsync();
        await OpenApi.UseAsync(card, "U-1", "2026-01-05 12:00:00");
        await OpenApi.UseAsync(card, "U-2", "2026-01-05 13:00:00");

        var cancel = await OpenApi.CancelAsync("U-1");
        var twice = await OpenApi.CancelAsync("U-1");
        var freed = await OpenApi.UseAsync(card, "U-3", "2026-01-05 14:00:00");

        Assert.Equal((0, 1), (cancel.Code, cancel.Data!["hasUsedNum"]!.GetValue<int>()));
        Assert.Equal(cancel.Data.ToJsonString(), twice.Data!.ToJsonString());
        Assert.Equal((0, 2), (freed.Code, freed.Data!["hasUsedNum"]!.GetValue<int>()));
        Assert.Equal(2101, (await OpenApi.CancelAsync("U-none")).Code);
        var log = await App.QueryAsync(db => db.CardUseLogs.OrderBy(l => l.Id).Select(l => l.Kind).ToListAsync());
        Assert.Equal(["use", "use", "cancel", "use"], log);
    }

    [Fact]
    public async Task CancellingTheOnlyUseOfTheLatestCycleMovesLastCycleBack()
    {
        var card = await SellAsync();
        await OpenApi.UseAsync(card, "U-1", "2026-01-05 12:00:00");
        await OpenApi.UseAsync(card, "U-2", "2026-01-12 12:00:00");

        var cancel = await OpenApi.CancelAsync("U-2");

        Assert.Equal((1, 1), (cancel.Data!["lastCycle"]!.GetValue<int>(), cancel.Data["lastCycleUsed"]!.GetValue<int>()));
    }

    [Theory]
    [InlineData("""{"cardProductId":"P-NOODLE","posid":"P","useNo":"U"}""", 1004)]
    [InlineData("""{"memberCardId":"LNOPENOPENOPE","cardProductId":"P-NOODLE","posid":"P","useNo":"U"}""", 2101)]
    [InlineData("""{"memberCardId":"CARD","cardProductId":"P-NOTHING","posid":"P","useNo":"U"}""", 2101)]
    [InlineData("""{"memberCardId":"CARD","cardProductId":"P-NOODLE","useNo":"U"}""", 1004)]
    [InlineData("""{"memberCardId":"CARD","cardProductId":"P-NOODLE","posid":"P","useNo":"U","useTime":"yesterday"}""", 1004)]
    public async Task AUseThatCannotBeMadeChangesNothing(string param, int code)
    {
        var card = await SellAsync();

        var answer = await OpenApi.CallAsync("useMncard", param.Replace("CARD", card));

        Assert.Equal(code, answer.Code);
        Assert.Equal(0, await App.QueryAsync(db => db.CardUses.CountAsync()));
    }

    [Fact]
    public async Task TheCardCodeWorksInPlaceOfTheMemberCardId()
    {
        var card = await SellAsync();

        var answer = await OpenApi.CallAsync("useMncard", new { cardCode = card, cardProductId = "P-NOODLE", posid = "P", useNo = "U-1", useTime = "2026-01-05 12:00:00" });

        Assert.Equal((0, card), (answer.Code, answer.Data!["memberCardId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task SixteenConcurrentUsesOfOneEntryNeverExceedTheCycleQuota()
    {
        var card = await SellAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => OpenApi.UseAsync(card, $"R-{i}", "2026-01-05 12:00:00")));

        Assert.Equal(2, answers.Count(a => a.Code == 0));
        Assert.Equal(14, answers.Count(a => a.Code == 2103));
        Assert.Equal((2, 2), await App.QueryAsync(async db => (await db.CardUses.CountAsync(), await db.UsageEntries.Select(e => e.HasUsedNum).SingleAsync())));
    }
}

public sealed class CardUseTestsOnSqlite() : CardUseTests(Backend.Sqlite);

public sealed class CardUseTestsOnPostgres() : CardUseTests(Backend.Postgres)
{
    [Fact]
    public async Task SixteenConcurrentUsesThroughTwoHostsNeverExceedTheCycleQuota()
    {
        var card = await SellAsync();
        var second = new OpenApiClient(StartApp().CreateClient());

        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            (i % 2 == 0 ? OpenApi : second).UseAsync(card, $"R-{i}", "2026-01-05 12:00:00")));

        // Every loser is refused by the cycle rule (2 per cycle, 8 in all), not by some other failure.
        Assert.Equal(2, answers.Count(a => a.Code == 0));
        Assert.Equal(14, answers.Count(a => a.Code == 2103));
        Assert.Equal((2, 2), await App.QueryAsync(async db => (await db.CardUses.CountAsync(), await db.UsageEntries.Select(e => e.HasUsedNum).SingleAsync())));
    }

    [Fact]
    public async Task ConcurrentUsesWithOneUseNoThroughTwoHostsCountOnce()
    {
        var card = await SellAsync();
        var second = new OpenApiClient(StartApp().CreateClient());

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            (i % 2 == 0 ? OpenApi : second).UseAsync(card, "TWIN", "2026-01-05 12:00:00")));

        Assert.All(answers, a => Assert.Equal(0, a.Code));
        Assert.Equal(1, await App.QueryAsync(db => db.UsageEntries.Select(e => e.HasUsedNum).SingleAsync()));
    }
}
