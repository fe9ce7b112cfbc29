using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points.Lots;

/// <summary>Levels reviewed on the anniversary of their last change, and manual levels that stand.</summary>
public abstract class LevelReviewTests(Backend backend) : LotTestBase(backend)
{
    private Task<Envelope> SetLevelAsync(long member, int level) =>
        Partner.PostRawAsync(PointsWireClient.LevelSet, $$"""{"OnlyUpTo":"0","LevelId":{{level}},"MemberList":[{{member}}]}""", "application/json");

    [Fact]
    public async Task AReviewDemotesAMemberWhoseEarningsWereReversed()
    {
        await SettingAsync(SettingKeys.LevelReviewMonths, "12");
        await Partner.AddPointsAsync(1, "P", 1500, "ORDER-A");
        await Partner.AddPointsAsync(1, "S", -1000, "ORDER-A");
        await Partner.AddPointsAsync(2, "P", 1500, "ORDER-B");
        Assert.Equal(64, (await MemberAsync(1)).Level);

        Time.Advance(TimeSpan.FromDays(364));
        await SettleAsync();
        Assert.DoesNotContain(await RowsAsync(1), r => r.BusiType == "L");

        Time.Advance(TimeSpan.FromDays(2));
        await SettleAsync();
        await SettleAsync();

        var review = Assert.Single(await RowsAsync(1), r => r.BusiType == "L");
        Assert.Equal((0L, 64, 1), (review.ChangeValue, review.LevelBefore, review.LevelAfter));
        Assert.Equal(1, (await MemberAsync(1)).Level);
        var kept = Assert.Single(await RowsAsync(2), r => r.BusiType == "L");
        Assert.Equal((64, 64), (kept.LevelBefore, kept.LevelAfter));
        Assert.Equal(2, await App.QueryAsync(db => db.AuditLog.CountAsync(a => a.Action == "level.review" && (a.EntityId == "1" || a.EntityId == "2"))));
        await AssertConsistentAsync(1);
    }

    [Fact]
    public async Task WithoutReviewsLevelsOnlyGoUp()
    {
        await Partner.AddPointsAsync(1, "P", 1500, "ORDER-A");
        await Partner.AddPointsAsync(1, "S", -1500, "ORDER-A");
        Time.Advance(TimeSpan.FromDays(800));
        await SettleAsync();

        Assert.Equal(64, (await MemberAsync(1)).Level);
        Assert.DoesNotContain(await RowsAsync(1), r => r.BusiType == "L");
    }

    [Fact]
    public async Task ALevelSetByHandIsNotUndoneByTheNextPointAdd()
    {
        await Partner.AddPointsAsync(1, "P", 1500, "ORDER-A");
        await SetLevelAsync(1, 1);

        var add = await Partner.AddPointsAsync(1, "P", 10, "ORDER-B");

        Assert.Equal((1L, 1L), (add.TagLong("MemberLevelIdBefore"), add.TagLong("MemberLevelIdAfter")));
    }

    [Fact]
    public async Task AReviewPromotesAsWellAsDemotes()
    {
        await SettingAsync(SettingKeys.LevelReviewMonths, "12");
        await Partner.AddPointsAsync(1, "P", 1500, "ORDER-A");
        await SetLevelAsync(1, 1);

        Time.Advance(TimeSpan.FromDays(366));
        await SettleAsync();

        // The year before the Level/Set's anniversary holds the 1,500 earned at its start.
        var review = Assert.Single(await RowsAsync(1), r => r.BusiType == "L");
        Assert.Equal((1, 64), (review.LevelBefore, review.LevelAfter));
        Assert.Equal(64, (await MemberAsync(1)).Level);
    }

    [Fact]
    public async Task ALevelSetByHandStandsUntilTheReviewOnItsAnniversary()
    {
        await SettingAsync(SettingKeys.LevelReviewMonths, "12");
        await Partner.AddPointsAsync(1, "P", 1500, "ORDER-A");
        Time.Advance(TimeSpan.FromDays(100));
        await SetLevelAsync(1, 1);

        Time.Advance(TimeSpan.FromDays(300)); // a year after the earning, not yet after the Level/Set
        await SettleAsync();
        Assert.Equal(1, (await MemberAsync(1)).Level);

        Time.Advance(TimeSpan.FromDays(70));
        await SettleAsync();
        // The year before the anniversary holds only the first 100 days' worth of nothing: level 1 is confirmed.
        var review = Assert.Single(await RowsAsync(1), r => r.BusiType == "L");
        Assert.Equal((1, 1), (review.LevelBefore, review.LevelAfter));
    }

    [Fact]
    public async Task ANewMembersFirstReviewFallsDueAPeriodAfterTheyJoined()
    {
        await SettingAsync(SettingKeys.LevelReviewMonths, "1");
        using var created = await OperatorClient().PostAsJsonAsync("/api/v1/members", new { code = "JOINED-1", name = "joined" });
        var id = System.Text.Json.Nodes.JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<long>();

        Time.Advance(TimeSpan.FromDays(2));
        await SettleAsync();
        Assert.DoesNotContain(await RowsAsync(id), r => r.BusiType == "L");
        Assert.DoesNotContain(await RowsAsync(3), r => r.BusiType == "L"); // a catalog's member, as new

        Time.Advance(TimeSpan.FromDays(31));
        await SettleAsync();
        Assert.Single(await RowsAsync(id), r => r.BusiType == "L");
        Assert.Single(await RowsAsync(3), r => r.BusiType == "L");
    }

    [Fact]
    public async Task AReviewDueOnAShortMonthsLastDayIsFoundThatDay()
    {
        await SettingAsync(SettingKeys.LevelReviewMonths, "1");
        Time.SetUtcNow(new DateTimeOffset(2026, 3, 31, 10, 0, 0, TimeSpan.FromHours(8)).ToUniversalTime());
        await Partner.AddPointsAsync(1, "P", 1500, "ORDER-A"); // promoted: the anniversary is the 31st

        // A month on is April 30th, 10:00: the 31st of March a month before now is not yet passed, the anniversary is.
        Time.SetUtcNow(new DateTimeOffset(2026, 4, 30, 11, 0, 0, TimeSpan.FromHours(8)).ToUniversalTime());
        await SettleAsync();

        // The settling job's own loop, woken by the clock, may have reviewed the catalog's member before the promotion.
        var review = Assert.Single(await RowsAsync(1), r => r.BusiType == "L" && r.CreatedAt > new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero));
        var since = await App.QueryAsync(db => db.Members.Where(m => m.Id == 1).Select(m => m.LevelSince).SingleAsync());
        Assert.Equal(new DateTimeOffset(2026, 4, 30, 10, 0, 0, TimeSpan.FromHours(8)), since);
        Assert.Equal((64, 64), (review.LevelBefore, review.LevelAfter)); // the window holds the earning
    }

    [Fact]
    public async Task AMemberSettledTwiceAtOneInstantIsReviewedOnce()
    {
        await SettingAsync(SettingKeys.LevelReviewMonths, "1");
        Time.SetUtcNow(new DateTimeOffset(2026, 8, 31, 10, 0, 0, TimeSpan.FromHours(8)).ToUniversalTime());
        await Partner.AddPointsAsync(1, "P", 1500, "ORDER-A");

        // Two months on, less a day: the anniversaries are September 30th and, counted from it, October 30th.
        Time.SetUtcNow(new DateTimeOffset(2026, 10, 31, 6, 0, 0, TimeSpan.FromHours(8)).ToUniversalTime());
        await SettleAsync();
        await SettleAsync();

        var review = Assert.Single(await RowsAsync(1), r => r.BusiType == "L" && r.CreatedAt > new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal("REV-20261030", review.BusiBillNum);
    }
}

public sealed class LevelReviewTestsOnSqlite() : LevelReviewTests(Backend.Sqlite);

public sealed class LevelReviewTestsOnPostgres() : LevelReviewTests(Backend.Postgres);
