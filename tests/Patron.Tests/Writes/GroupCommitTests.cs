using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Cards;
using Patron.Data;
using Patron.Points;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Writes;

/// <summary>
/// Point/Add through group commit, with a gather window wide enough that concurrent requests share
/// transactions: every rule of a single request still holds for each request in a batch.
/// </summary>
public abstract class GroupCommitTests(Backend backend) : PatronTest(backend)
{
    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("GroupCommit:GatherMilliseconds", "150");
        builder.UseSetting("GroupCommit:Writers", "1");
    }

    protected static (long Batches, int Largest) Stats(PatronApp app) => app.Services.GetRequiredService<PointsWrites>().Stats;

    protected static (long Batches, int Largest) UseStats(PatronApp app) => app.Services.GetRequiredService<CardUseWrites>().Stats;

    [Fact]
    public async Task OneBatchHoldingFailuresRepeatsAndOneMemberManyTimesSettlesEachRequestAsAlone()
    {
        await Partner.AddPointsAsync(5, "P", 10, "seed", key: "seed");
        var before = Stats(App);

        var sends = new List<Task<Envelope>>();
        for (var i = 0; i < 30; i++)
            sends.Add(Partner.AddPointsAsync(5, "P", i + 1, $"b-{i}", key: $"m-{i}"));
        sends.Add(Partner.AddPointsAsync(5, "E", -100_000, "too-much", key: "too-much"));   // fails alone: 2201
        sends.Add(Partner.AddPointsAsync(9_999, "P", 1, "nobody", key: "nobody"));          // fails alone: 2001
        sends.Add(Partner.AddPointsAsync(5, "P", 1, "b-0", key: "m-0"));                     // the key of m-0 with the same body
        sends.Add(Partner.AddPointsAsync(5, "P", 2, "other", key: "m-1"));                   // the key of m-1, another bill: one of the two is 1006
        sends.Add(Partner.AddPointsAsync(6, "P", 7, "six", key: "six"));
        var answers = await Task.WhenAll(sends);

        var after = Stats(App);
        Assert.True(after.Largest > 1, $"no two requests shared a batch: {after}");
        Assert.True(after.Batches - before.Batches < sends.Count, $"{after.Batches - before.Batches} batches for {sends.Count} requests");

        Assert.All(answers[..30].Where((_, i) => i != 1), a => Assert.Equal(0, a.Errcode));
        Assert.Equal([2201, 2001, 0, 0], answers[30..].Where((_, i) => i != 3).Select(a => a.Errcode));
        Assert.Equal([0, 1006], new[] { answers[1].Errcode, answers[33].Errcode }.Order());
        Assert.Equal(answers[0].TagLong("AutoId"), answers[32].TagLong("AutoId"));

        var expected = 10 + Enumerable.Range(1, 30).Sum();
        Assert.Equal(expected, await BalanceAsync(5));
        Assert.Equal(7, await BalanceAsync(6));

        // Member 5's rows, in AutoId order, chain exactly, and each answer is its own row's before and after.
        var rows = await App.QueryAsync(db => db.PointEntries.Where(p => p.MemberId == 5).OrderBy(p => p.AutoId).ToListAsync());
        Assert.Equal(31, rows.Count);
        for (var i = 1; i < rows.Count; i++)
            Assert.Equal(rows[i - 1].BalanceAfter, rows[i].BalanceBefore);
        Assert.Equal(expected, rows[^1].BalanceAfter);
        foreach (var answer in answers.Where(a => a.Errcode == 0 && a.Tag!["MemberId"]!.GetValue<long>() == 5))
        {
            var row = rows.Single(r => r.AutoId == answer.TagLong("AutoId"));
            Assert.Equal((row.BalanceBefore, row.BalanceAfter), (answer.TagLong("ValuePointBefore"), answer.TagLong("ValuePointAfter")));
        }
        Assert.Equal(32, await LedgerCountAsync());
    }

    [Fact]
    public async Task ConcurrentExchangesInOneBatchNeverTakeTheBalanceBelowZero()
    {
        await Partner.AddPointsAsync(7, "P", 10);
        var answers = await Task.WhenAll(Enumerable.Range(0, 25).Select(i => Partner.AddPointsAsync(7, "E", -1, $"e-{i}", key: $"e-{i}")));

        Assert.Equal(10, answers.Count(a => a.Errcode == 0));
        Assert.Equal(15, answers.Count(a => a.Errcode == 2201));
        Assert.Equal(0, await BalanceAsync(7));
        Assert.Equal(11, await LedgerCountAsync());
    }
}

public sealed class GroupCommitTestsOnSqlite() : GroupCommitTests(Backend.Sqlite);

/// <summary>
/// How many writer loops run: <c>--GroupCommit:Writers</c> on PostgreSQL; one on SQLite, which
/// lets one transaction write at a time, so that a second loop never waits in its busy handler.
/// </summary>
public abstract class WriterLoopTests(Backend backend, int expected) : PatronTest(backend)
{
    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) =>
        builder.UseSetting("GroupCommit:Writers", "3");

    [Fact]
    public async Task PointAddRunsTheWriterLoopsItsDatabaseCanUse()
    {
        Assert.Equal(expected, App.Services.GetRequiredService<PointsWrites>().WriterLoops);
        // …and they settle requests, concurrent ones included.
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Partner.AddPointsAsync(5, "P", 1, $"w-{i}", key: $"w-{i}")));
        Assert.All(answers, a => Assert.Equal(0, a.Errcode));
        Assert.Equal(12, await BalanceAsync(5));
    }
}

public sealed class WriterLoopTestsOnSqlite() : WriterLoopTests(Backend.Sqlite, expected: 1);

public sealed class WriterLoopTestsOnPostgres() : WriterLoopTests(Backend.Postgres, expected: 3);

public sealed class GroupCommitTestsOnPostgres() : GroupCommitTests(Backend.Postgres)
{
    [Fact]
    public async Task ARequestTheDatabaseRefusesFailsAloneAndItsBatchStillCommits()
    {
        // A trigger stands in for whatever the database might refuse that the rules let through.
        await using (var db = new Npgsql.NpgsqlConnection(Connection))
        {
            await db.OpenAsync();
            await using var trigger = new Npgsql.NpgsqlCommand("""
                CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN IF NEW.busi_bill_num = 'BOOM' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
                CREATE TRIGGER refuse_boom BEFORE INSERT ON point_ledger FOR EACH ROW EXECUTE FUNCTION refuse_boom();
                """, db);
            await trigger.ExecuteNonQueryAsync();
        }
        var before = Stats(App);

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            Partner.AddPointsAsync(20 + i % 2, "P", 10, i == 3 ? "BOOM" : $"ok-{i}", key: $"k-{i}")));

        Assert.True(Stats(App).Largest >= 6 && Stats(App).Batches > before.Batches, "the six shared a batch");
        Assert.Equal([0, 0, 0, 5000, 0, 0], answers.Select(a => a.Errcode));
        Assert.Equal((30, 20), (await BalanceAsync(20), await BalanceAsync(21)));
        Assert.Equal(5, await LedgerCountAsync());
        // The pooled connections are not left inside a failed transaction: the next calls work.
        for (var i = 0; i < 4; i++)
            Assert.Equal(0, (await Partner.AddPointsAsync(22, "P", 1, $"after-{i}", key: $"after-{i}")).Errcode);
        Assert.Equal(4, await BalanceAsync(22));
    }

    [Fact]
    public async Task TwoProcessesBatchingOnOnePostgresKeepEveryRequestExactlyOnce()
    {
        var second = StartApp();
        var clients = new[] { Partner, PartnerClient(second, TestCatalog.ApiKey) };

        // 2 × 60 adds over three members, every key sent twice (once to each host), all at once.
        var sends = Enumerable.Range(0, 120).Select(n =>
            clients[n % 2].AddPointsAsync(11 + n / 2 % 3, "P", 1 + n / 2 % 5, $"x-{n / 2}", key: $"x-{n / 2}")).ToList();
        var answers = await Task.WhenAll(sends);

        Assert.All(answers, a => Assert.Equal(0, a.Errcode));
        Assert.True(Stats(App).Largest > 1 && Stats(second).Largest > 1, "both hosts batched");
        for (var n = 0; n < 120; n += 2)
            Assert.Equal(answers[n].TagLong("AutoId"), answers[n + 1].TagLong("AutoId"));
        Assert.Equal(60, await LedgerCountAsync());
        foreach (var member in new long[] { 11, 12, 13 })
        {
            var rows = await App.QueryAsync(db => db.PointEntries.Where(p => p.MemberId == member).OrderBy(p => p.AutoId).ToListAsync());
            Assert.Equal(0, rows[0].BalanceBefore);
            for (var i = 1; i < rows.Count; i++)
                Assert.Equal(rows[i - 1].BalanceAfter, rows[i].BalanceBefore);
            Assert.Equal(rows.Sum(r => r.ChangeValue), await BalanceAsync(member));
        }
    }

    [Fact]
    public async Task UsesSharingABatchKeepEveryQuotaIncludingLateUsesOfAnEarlierCycle()
    {
        var openApi = new OpenApiClient(App.CreateClient());
        var card = (await openApi.SellAsync("GC-1")).Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await openApi.UseAsync(card, "first", "2026-01-12 09:00:00")).Code); // cycle 2, so cycle 1 is now "older"

        var answers = await Task.WhenAll(
            openApi.UseAsync(card, "c1-a", "2026-01-05 12:00:00"), openApi.UseAsync(card, "c1-b", "2026-01-06 12:00:00"),
            openApi.UseAsync(card, "c1-c", "2026-01-07 12:00:00"),
            openApi.UseAsync(card, "c2-a", "2026-01-13 12:00:00"), openApi.UseAsync(card, "c2-b", "2026-01-14 12:00:00"),
            openApi.UseAsync(card, "c3", "2026-01-19 12:00:00"), openApi.UseAsync(card, "c3", "2026-01-19 12:00:00"));

        Assert.Equal(2, answers[..3].Count(a => a.Code == 0));
        Assert.Equal(2103, answers[..3].Single(a => a.Code != 0).Code);
        Assert.Equal(1, answers[3..5].Count(a => a.Code == 0));
        Assert.Equal((0, 0), (answers[5].Code, answers[6].Code));
        Assert.Equal(answers[5].Data!["lockVersion"]!.GetValue<int>(), answers[6].Data!["lockVersion"]!.GetValue<int>());
        Assert.True(UseStats(App).Largest > 1, "no two uses shared a batch");

        var entry = await App.QueryAsync(db => db.UsageEntries.SingleAsync(e => e.MemberCardId == card));
        Assert.Equal((5, 3, 1, 5), (entry.HasUsedNum, entry.LastCycle, entry.LastCycleUsed, entry.LockVersion));
        Assert.Equal(5, await App.QueryAsync(db => db.CardUses.CountAsync(u => u.MemberCardId == card && u.CancelledAt == null)));
        Assert.Equal([1, 2, 3, 4, 5], await App.QueryAsync(db => db.CardUseLogs.Where(l => l.UsageEntryId == entry.Id).OrderBy(l => l.Id).Select(l => l.HasUsedNumAfter).ToListAsync()));
    }

    [Fact]
    public async Task SalesSharingABatchAreEachSettledAloneAndASaleNoIssuesOneSetOfCards()
    {
        var openApi = new OpenApiClient(App.CreateClient());

        var answers = await Task.WhenAll(
            openApi.SellAsync("B-1", num: 2), openApi.SellAsync("B-1", num: 2), openApi.SellAsync("B-2", memberId: "M0002"),
            openApi.SellAsync("B-3", memberId: "NOBODY"), openApi.SellAsync("B-4", card: TestCatalog.OffSaleCard),
            openApi.SellAsync("B-5", memberId: "7"), openApi.SellAsync("B-6", num: 3, memberId: "M0003"));

        Assert.Equal([0, 0, 0, 2001, 2002, 0, 0], answers.Select(a => a.Code));
        Assert.Equal(answers[0].Data!.ToJsonString(), answers[1].Data!.ToJsonString());
        Assert.True(App.Services.GetRequiredService<CardSaleWrites>().Stats.Largest > 1, "no two sales shared a batch");
        Assert.Equal("M0007", answers[5].Data!["memberId"]!.GetValue<string>());

        var sales = await App.QueryAsync(db => db.CardSales.OrderBy(s => s.SaleNo).Select(s => new { s.SaleNo, s.Num, s.MemberCode }).ToListAsync());
        Assert.Equal(["B-1", "B-2", "B-5", "B-6"], sales.Select(s => s.SaleNo));
        Assert.Equal(2 + 1 + 1 + 3, await App.QueryAsync(db => db.MemberCards.CountAsync()));
        Assert.Equal(7, await App.QueryAsync(db => db.UsageEntries.CountAsync()));
        var codes = answers[6].Data!["list"]![0]!["cpnCodes"]!.AsArray().Select(c => c!.GetValue<string>()).Order().ToList();
        Assert.Equal(codes, await App.QueryAsync(db => db.MemberCards.Where(c => c.MemberCode == "M0003").Select(c => c.Id).OrderBy(c => c).ToListAsync()));

        // A card sold in the batch can be used at once, and a conflicting repeat is refused.
        Assert.Equal(0, (await openApi.UseAsync(codes[0], "after-batch", "2026-01-05 12:00:00")).Code);
        Assert.Equal(2003, (await openApi.SellAsync("B-6", num: 2, memberId: "M0003")).Code);
    }
}
