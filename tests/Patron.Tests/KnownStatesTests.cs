using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Cards;
using Patron.Data;
using Patron.Points;
using Patron.Tests.Infrastructure;

namespace Patron.Tests;

/// <summary>
/// What a process knows of its members lets a batch skip its reads, but never decides one on a
/// state that has moved: each batch's update checks it, and a batch that finds it stale is decided
/// again from a read under lock.
/// </summary>
public sealed class KnownMembersTestsOnPostgres() : PatronTest(Backend.Postgres)
{
    private static (long Read, long Known) Paths(PatronApp app) => ((PostgresPointsWriter)app.Services.GetRequiredService<PointsWriter>()).Paths;

    [Fact]
    public async Task AMemberThisProcessHasWrittenIsSettledWithoutAReadAndChainsExactly()
    {
        Assert.Equal(0, (await Partner.AddPointsAsync(30, "P", 100, "k-1", key: "k-1")).Errcode);
        var before = Paths(App);

        var second = await Partner.AddPointsAsync(30, "P", 25, "k-2", key: "k-2");

        Assert.Equal((before.Read, before.Known + 1), Paths(App));
        Assert.Equal((0, 100L, 125L), (second.Errcode, second.TagLong("ValuePointBefore"), second.TagLong("ValuePointAfter")));
        var rows = await App.QueryAsync(db => db.PointEntries.Where(p => p.MemberId == 30).OrderBy(p => p.AutoId).ToListAsync());
        Assert.Equal([(0L, 100L), (100L, 125L)], rows.Select(r => (r.BalanceBefore, r.BalanceAfter)));
        Assert.Equal(second.TagLong("AutoId"), rows[1].AutoId);
        Assert.Equal(125, await BalanceAsync(30));
    }

    [Fact]
    public async Task AMemberAnotherInstanceChangedIsReadAgainSoNoRuleIsDecidedOnItsOldBalance()
    {
        var other = PartnerClient(StartApp(), TestCatalog.ApiKey);
        Assert.Equal(0, (await Partner.AddPointsAsync(31, "P", 100, "earn", key: "earn")).Errcode); // this process knows 100
        Assert.Equal(0, (await other.AddPointsAsync(31, "E", -100, "spend", key: "spend")).Errcode); // the other takes it to 0
        var before = Paths(App);

        var refused = await Partner.AddPointsAsync(31, "E", -50, "late", key: "late");
        var added = await Partner.AddPointsAsync(31, "P", 7, "after", key: "after");

        Assert.Equal(2201, refused.Errcode); // decided on 100, it would have passed
        Assert.Equal((0, 0L, 7L), (added.Errcode, added.TagLong("ValuePointBefore"), added.TagLong("ValuePointAfter")));
        Assert.True(Paths(App).Read >= before.Read + 1, $"the stale batch was read again: {before} → {Paths(App)}");
        Assert.Equal(7, await BalanceAsync(31));
        Assert.Equal(3, await LedgerCountAsync());
    }

    [Fact]
    public async Task AKeyUsedBeforeAnswersWithItsFirstOutcomeWhenItsMemberIsKnown()
    {
        var first = await Partner.AddPointsAsync(32, "P", 40, "bill-1", key: "again");
        Assert.Equal(0, (await Partner.AddPointsAsync(32, "P", 2, "bill-2", key: "other")).Errcode); // member 32 is known

        var repeated = await Partner.AddPointsAsync(32, "P", 40, "bill-1", key: "again");
        var reused = await Partner.AddPointsAsync(32, "P", 41, "bill-3", key: "again");

        Assert.Equal((0, first.TagLong("AutoId"), 40L), (repeated.Errcode, repeated.TagLong("AutoId"), repeated.TagLong("ValuePointAfter")));
        Assert.Equal(1006, reused.Errcode);
        Assert.Equal(42, await BalanceAsync(32));
        Assert.Equal(2, await LedgerCountAsync());
        // The key's failed attempt left nothing behind: the member is still written exactly.
        Assert.Equal(0, (await Partner.AddPointsAsync(32, "P", 1, "bill-4", key: "last")).Errcode);
        Assert.Equal(43, await BalanceAsync(32));
    }

    [Fact]
    public async Task LevelsChangedElsewhereDecideTheNextBatchOfAKnownMember()
    {
        var first = await Partner.AddPointsAsync(33, "P", 500, "a", key: "a");
        Assert.Equal((0, 1L), (first.Errcode, first.TagLong("MemberLevelIdAfter")));
        await using (var db = new Npgsql.NpgsqlConnection(Connection))
        {
            await db.OpenAsync();
            await using var lower = new Npgsql.NpgsqlCommand("UPDATE levels SET threshold = 400 WHERE id = 64", db);
            Assert.Equal(1, await lower.ExecuteNonQueryAsync()); // as another instance's operator would
        }

        var next = await Partner.AddPointsAsync(33, "P", 10, "b", key: "b");

        Assert.Equal((0, 1L, 64L), (next.Errcode, next.TagLong("MemberLevelIdBefore"), next.TagLong("MemberLevelIdAfter")));
        Assert.Equal(64, await App.QueryAsync(db => db.Members.Where(m => m.Id == 33).Select(m => (int)m.LevelId).SingleAsync()));
    }
}

/// <summary>The same for card uses: a known entry skips the read, never a change made elsewhere.</summary>
public sealed class KnownEntriesTestsOnPostgres() : PatronTest(Backend.Postgres)
{
    private static (long Read, long Known) Paths(PatronApp app) => ((PostgresCardUseWriter)app.Services.GetRequiredService<ICardUses>()).Paths;

    private async Task<string> SellAsync(OpenApiClient openApi, string saleNo) =>
        (await openApi.SellAsync(saleNo)).Data!["id"]!.GetValue<string>();

    private async Task<(int HasUsedNum, int LockVersion)> EntryAsync(string card)
    {
        var entry = await App.QueryAsync(db => db.UsageEntries.AsNoTracking().SingleAsync(e => e.MemberCardId == card));
        return (entry.HasUsedNum, entry.LockVersion);
    }

    [Fact]
    public async Task ACardThisProcessHasUsedIsUsedWithoutAReadAndItsCycleQuotaHolds()
    {
        var openApi = new OpenApiClient(App.CreateClient());
        var card = await SellAsync(openApi, "K-1");
        Assert.Equal(0, (await openApi.UseAsync(card, "u1", "2026-01-06 09:00:00")).Code);
        var before = Paths(App);

        var second = await openApi.UseAsync(card, "u2", "2026-01-06 12:00:00");
        var third = await openApi.UseAsync(card, "u3", "2026-01-07 12:00:00"); // the cycle allows two

        Assert.Equal((before.Read, before.Known + 2), Paths(App));
        Assert.Equal((0, 2, 2), (second.Code, second.Data!["hasUsedNum"]!.GetValue<int>(), second.Data["lockVersion"]!.GetValue<int>()));
        Assert.Equal(2103, third.Code);
        Assert.Equal((2, 2), await EntryAsync(card));
        Assert.Equal(2, await App.QueryAsync(db => db.CardUses.CountAsync(u => u.MemberCardId == card)));
    }

    [Fact]
    public async Task ARefundByAnotherInstanceRefusesTheNextUseOfAKnownCard()
    {
        var openApi = new OpenApiClient(App.CreateClient());
        var other = new OpenApiClient(StartApp().CreateClient());
        var card = await SellAsync(openApi, "K-2");
        Assert.Equal(0, (await openApi.UseAsync(card, "r1", "2026-01-06 09:00:00")).Code); // this process knows the entry
        Assert.Equal(0, (await other.CallAsync("refundMncardForSale", new { saleNo = "K-2" })).Code);
        var before = Paths(App);

        var use = await openApi.UseAsync(card, "r2", "2026-01-13 09:00:00");

        Assert.Equal(2102, use.Code); // decided on what it knew, it would have passed
        Assert.True(Paths(App).Read > before.Read, $"the stale batch was read again: {before} → {Paths(App)}");
        Assert.Equal(1, await App.QueryAsync(db => db.CardUses.CountAsync(u => u.MemberCardId == card)));
    }

    [Fact]
    public async Task AUseCancelledByAnotherInstanceFreesItsQuotaForAKnownCard()
    {
        var openApi = new OpenApiClient(App.CreateClient());
        var other = new OpenApiClient(StartApp().CreateClient());
        var card = await SellAsync(openApi, "K-3");
        Assert.Equal(0, (await openApi.UseAsync(card, "c1", "2026-01-06 09:00:00")).Code);
        Assert.Equal(0, (await openApi.UseAsync(card, "c2", "2026-01-06 10:00:00")).Code); // the cycle's two
        Assert.Equal(0, (await other.CancelAsync("c1")).Code);

        var again = await openApi.UseAsync(card, "c3", "2026-01-06 11:00:00");

        Assert.Equal((0, 2), (again.Code, again.Data!["hasUsedNum"]!.GetValue<int>())); // decided on what it knew, it would be 2103
        Assert.Equal(2, await App.QueryAsync(db => db.CardUses.CountAsync(u => u.MemberCardId == card && u.CancelledAt == null)));
    }

    [Fact]
    public async Task ABusinessZoneChangedElsewhereSendsTheNextUseOfAKnownCardToARead()
    {
        var openApi = new OpenApiClient(App.CreateClient());
        var card = await SellAsync(openApi, "K-5");
        Assert.Equal(0, (await openApi.UseAsync(card, "z1", "2026-01-06 09:00:00")).Code); // the entry and the zone are known
        await using (var db = new Npgsql.NpgsqlConnection(Connection))
        {
            await db.OpenAsync();
            await using var zone = new Npgsql.NpgsqlCommand("UPDATE settings SET value = 'UTC' WHERE key = 'timeZone'", db);
            Assert.Equal(1, await zone.ExecuteNonQueryAsync()); // cycles are counted in the business zone's days
        }
        var before = Paths(App);

        Assert.Equal(0, (await openApi.UseAsync(card, "z2", "2026-01-13 09:00:00")).Code);

        Assert.Equal((before.Read + 1, before.Known), Paths(App)); // decided on the zone it read, not the one it knew
        Assert.Equal(0, (await openApi.UseAsync(card, "z3", "2026-01-20 09:00:00")).Code);
        Assert.Equal(before.Known + 1, Paths(App).Known); // and known again after that read
    }

    [Fact]
    public async Task AUseNoTakenBeforeAnswersWithItsFirstOutcomeWhenItsCardIsKnown()
    {
        var openApi = new OpenApiClient(App.CreateClient());
        var card = await SellAsync(openApi, "K-4");
        var first = await openApi.UseAsync(card, "n1", "2026-01-06 09:00:00");
        Assert.Equal(0, (await openApi.UseAsync(card, "n2", "2026-01-13 09:00:00")).Code); // the entry is known

        var repeated = await openApi.UseAsync(card, "n1", "2026-01-06 09:00:00");
        var reused = await openApi.UseAsync(card, "n1", "2026-01-20 09:00:00");

        Assert.Equal((0, first.Data!.ToJsonString()), (repeated.Code, repeated.Data!.ToJsonString()));
        Assert.Equal(1006, reused.Code);
        Assert.Equal((2, 2), await EntryAsync(card));
        Assert.Equal(0, (await openApi.UseAsync(card, "n3", "2026-01-20 09:00:00")).Code); // and the entry is still written exactly
        Assert.Equal((3, 3), await EntryAsync(card));
    }
}

/// <summary>The same for card sales: a member and card seen before skip the read, never a change made elsewhere.</summary>
public sealed class KnownSalesTestsOnPostgres() : PatronTest(Backend.Postgres)
{
    private static (long Read, long Known) Paths(PatronApp app) => ((PostgresCardSaleWriter)app.Services.GetRequiredService<ICardSales>()).Paths;

    private OpenApiClient OpenApi => new(App.CreateClient());

    /// <summary>Changes a row as another instance's operator would.</summary>
    private async Task ElsewhereAsync(string sql)
    {
        await using var db = new Npgsql.NpgsqlConnection(Connection);
        await db.OpenAsync();
        await using var change = new Npgsql.NpgsqlCommand(sql, db);
        Assert.Equal(1, await change.ExecuteNonQueryAsync());
    }

    private Task<MemberCard> CardAsync(string saleNo) =>
        App.QueryAsync(db => db.MemberCards.AsNoTracking().Include(c => c.Entries)
            .SingleAsync(c => db.CardSales.Any(s => s.Id == c.SaleId && s.SaleNo == saleNo)));

    [Fact]
    public async Task ASaleOfAMemberAndCardSeenBeforeIsSettledWithoutARead()
    {
        Assert.Equal(0, (await OpenApi.SellAsync("N-1")).Code);
        var before = Paths(App);

        var second = await OpenApi.SellAsync("N-2", num: 2);

        Assert.Equal((before.Read, before.Known + 1), Paths(App));
        Assert.Equal(0, second.Code);
        var codes = second.Data!["cards"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()).Order().ToList();
        var rows = await App.QueryAsync(db => db.MemberCards.AsNoTracking().Include(c => c.Entries)
            .Where(c => db.CardSales.Any(s => s.Id == c.SaleId && s.SaleNo == "N-2")).ToListAsync());
        Assert.Equal(codes, rows.Select(c => c.Id).Order());
        Assert.All(rows, c => Assert.Equal(("M0001", "P-NOODLE"), (c.MemberCode, Assert.Single(c.Entries).CardProductId)));
        Assert.Equal(2, await App.QueryAsync(db => db.CardSales.CountAsync()));
    }

    [Fact]
    public async Task ACardChangedElsewhereSellsAsItNowIs()
    {
        Assert.Equal(0, (await OpenApi.SellAsync("C-1")).Code);
        await ElsewhereAsync($"UPDATE card_products SET name = '新面', cycle_num = 3 WHERE card_id = '{TestCatalog.Card}' AND id = 'P-NOODLE'");
        var before = Paths(App);

        var sale = await OpenApi.SellAsync("C-2");

        Assert.Equal(before.Read + 1, Paths(App).Read); // decided on what it read, not on what it had seen
        var entry = sale.Data!["memberUsedList"]![0]!;
        Assert.Equal((0, "新面", 3), (sale.Code, entry["cardProductName"]!.GetValue<string>(), entry["cycleNum"]!.GetValue<int>()));
        var row = Assert.Single((await CardAsync("C-2")).Entries);
        Assert.Equal(("新面", 3), (row.CardProductName, row.CycleNum));
        Assert.Equal(0, (await OpenApi.SellAsync("C-3")).Code);
        Assert.Equal(before.Known + 1, Paths(App).Known); // and seen again after that read
    }

    [Fact]
    public async Task ACardTakenOffSaleElsewhereIsNotSoldOnWhatWasSeen()
    {
        Assert.Equal(0, (await OpenApi.SellAsync("O-1")).Code);
        await ElsewhereAsync($"UPDATE cards SET on_sale = false WHERE id = '{TestCatalog.Card}'");

        var sale = await OpenApi.SellAsync("O-2");

        Assert.Equal(2002, sale.Code);
        Assert.Equal(1, await App.QueryAsync(db => db.CardSales.CountAsync()));
        Assert.Equal(2002, (await OpenApi.SellAsync("O-3")).Code); // nor later, on what the read saw
    }

    [Fact]
    public async Task AMemberWhoseCodeMovedElsewhereIsNotSoldToByTheOldCode()
    {
        Assert.Equal(0, (await OpenApi.SellAsync("M-1")).Code);
        await ElsewhereAsync("UPDATE members SET code = 'M0001-OLD' WHERE code = 'M0001'"); // as another instance's catalog may

        var sale = await OpenApi.SellAsync("M-2");

        Assert.Equal(2001, sale.Code);
        Assert.Equal(1, await App.QueryAsync(db => db.CardSales.CountAsync()));
    }

    [Fact]
    public async Task ABusinessZoneChangedElsewhereDatesTheNextSaleInTheNewZone()
    {
        Assert.Equal(0, (await OpenApi.SellAsync("Z-1")).Code); // the zone is seen: Asia/Shanghai
        await ElsewhereAsync("UPDATE settings SET value = 'UTC' WHERE key = 'timeZone'");
        var before = Paths(App);

        Assert.Equal(0, (await OpenApi.SellAsync("Z-2")).Code);

        Assert.Equal(before.Read + 1, Paths(App).Read);
        const long day = 86_400_000;
        Assert.Equal(16 * 3_600_000, (await CardAsync("Z-1")).BeginTime % day); // a Shanghai midnight is 16:00 UTC
        Assert.Equal(0, (await CardAsync("Z-2")).BeginTime % day); // a UTC midnight
    }

    [Fact]
    public async Task ASaleNoSoldBeforeAnswersWithItsFirstResultWhenItsMemberAndCardAreSeen()
    {
        var first = await OpenApi.SellAsync("R-1");
        Assert.Equal(0, (await OpenApi.SellAsync("R-2")).Code); // the member and card are seen

        var repeated = await OpenApi.SellAsync("R-1");
        var reused = await OpenApi.SellAsync("R-1", payAmt: "99.00");

        Assert.Equal((0, first.Data!.ToJsonString()), (repeated.Code, repeated.Data!.ToJsonString()));
        Assert.Equal(2003, reused.Code);
        Assert.Equal(2, await App.QueryAsync(db => db.CardSales.CountAsync()));
        Assert.Equal(2, await App.QueryAsync(db => db.MemberCards.CountAsync()));
    }
}

/// <summary>Which batch may use what the process knows of a row, and which state it keeps.</summary>
public sealed class KnownStatesRulesTests
{
    private static readonly PointsState Hundred = new(100, 100, 1);
    private static readonly PointsState TwoHundred = new(200, 200, 1);

    [Fact]
    public async Task AnUnknownMemberIsReadAndWhatTheBatchCommitsIsKnownAfter()
    {
        var known = new KnownStates<long, PointsState>();
        var claim = await known.TakeAsync([1, 2]);
        Assert.Null(claim.Known);
        known.Release(claim, new Dictionary<long, PointsState> { [1] = Hundred, [2] = TwoHundred });

        var next = await known.TakeAsync([2, 1]);
        Assert.Equal(new Dictionary<long, PointsState> { [1] = Hundred, [2] = TwoHundred }, next.Known);
    }

    [Fact]
    public async Task ABatchWaitsForTheOneHoldingItsMemberAndIsDecidedOnWhatThatOneCommitted()
    {
        var known = new KnownStates<long, PointsState>();
        known.Release(known.Take([1]), new Dictionary<long, PointsState> { [1] = Hundred });
        var first = await known.TakeAsync([1]);

        var second = known.TakeAsync([1]);
        Assert.False(second.IsCompleted); // member 1 is the first batch's until it lets go
        known.Release(first, new Dictionary<long, PointsState> { [1] = TwoHundred });

        Assert.Equal(TwoHundred, (await second.WaitAsync(TimeSpan.FromSeconds(10))).Known![1]);
    }

    [Fact]
    public async Task BatchesWaitingForOneMemberTakeTurnsInTheOrderTheyCame()
    {
        var known = new KnownStates<long, PointsState>();
        known.Release(known.Take([1]), new Dictionary<long, PointsState> { [1] = Hundred });
        var first = known.Take([1]);
        var second = known.TakeAsync([1]);
        var third = known.TakeAsync([1]);

        known.Release(first, new Dictionary<long, PointsState> { [1] = TwoHundred });
        var secondClaim = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(TwoHundred, secondClaim.Known![1]);
        Assert.False(third.IsCompleted); // its turn comes when the second lets go

        known.Release(secondClaim, new Dictionary<long, PointsState> { [1] = new(300, 300, 1) });
        Assert.Equal(300, (await third.WaitAsync(TimeSpan.FromSeconds(10))).Known![1].Balance);
    }

    [Fact]
    public async Task ABatchWhoseHolderFailsWaitsAndThenReads()
    {
        var known = new KnownStates<long, PointsState>();
        known.Release(known.Take([1]), new Dictionary<long, PointsState> { [1] = Hundred });
        var first = await known.TakeAsync([1, 2]);

        var second = known.TakeAsync([2, 1]);
        Assert.False(second.IsCompleted);
        known.Release(first, null);

        Assert.Null((await second.WaitAsync(TimeSpan.FromSeconds(10))).Known);
    }

    [Fact]
    public void AMemberHeldByOneBatchIsReadByTheNextAndOnlyTheLastKeepsItsState()
    {
        var known = new KnownStates<long, PointsState>();
        known.Release(known.Take([1]), new Dictionary<long, PointsState> { [1] = Hundred });

        var first = known.Take([1]);
        var second = known.Take([1, 2]);
        Assert.NotNull(first.Known);
        Assert.Null(second.Known); // member 1 is held by the first batch

        // The second waited for the first's lock, so its state is the newer, whichever lets go last.
        known.Release(second, new Dictionary<long, PointsState> { [1] = TwoHundred, [2] = Hundred });
        known.Release(first, new Dictionary<long, PointsState> { [1] = new(150, 150, 1) });
        Assert.Null(known.Take([1]).Known); // neither kept a state for 1: the first was not the last to claim, the second let go while it was held
    }

    [Fact]
    public void ABatchThatDidNotCommitForgetsItsMembers()
    {
        var known = new KnownStates<long, PointsState>();
        known.Release(known.Take([1, 2]), new Dictionary<long, PointsState> { [1] = Hundred, [2] = TwoHundred });

        known.Release(known.Take([1]), null);

        Assert.Null(known.Take([1]).Known);
        Assert.Equal(1, known.Count);
    }

    [Fact]
    public void PastItsCapacityItForgetsTheMembersNoBatchHolds()
    {
        var known = new KnownStates<long, PointsState>(capacity: 2);
        var held = known.Take([1]);
        known.Release(known.Take([2, 3]), new Dictionary<long, PointsState> { [2] = Hundred, [3] = Hundred });

        Assert.Equal(0, known.Count);
        known.Release(held, new Dictionary<long, PointsState> { [1] = Hundred });
        Assert.Equal(Hundred, known.Take([1]).Known![1]);
    }
}
