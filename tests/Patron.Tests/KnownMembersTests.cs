using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
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

/// <summary>Which batch may use what the process knows of a member, and which state it keeps.</summary>
public sealed class KnownMembersRulesTests
{
    private static readonly PointsState Hundred = new(100, 100, 1);
    private static readonly PointsState TwoHundred = new(200, 200, 1);

    [Fact]
    public void AnUnknownMemberIsReadAndWhatTheBatchCommitsIsKnownAfter()
    {
        var known = new KnownMembers();
        var claim = known.Take([1, 2]);
        Assert.Null(claim.Known);
        known.Release(claim, new Dictionary<long, PointsState> { [1] = Hundred, [2] = TwoHundred });

        var next = known.Take([2, 1]);
        Assert.Equal(new Dictionary<long, PointsState> { [1] = Hundred, [2] = TwoHundred }, next.Known);
    }

    [Fact]
    public void AMemberHeldByOneBatchIsReadByTheNextAndOnlyTheLastKeepsItsState()
    {
        var known = new KnownMembers();
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
        var known = new KnownMembers();
        known.Release(known.Take([1, 2]), new Dictionary<long, PointsState> { [1] = Hundred, [2] = TwoHundred });

        known.Release(known.Take([1]), null);

        Assert.Null(known.Take([1]).Known);
        Assert.Equal(1, known.Count);
    }

    [Fact]
    public void PastItsCapacityItForgetsTheMembersNoBatchHolds()
    {
        var known = new KnownMembers(capacity: 2);
        var held = known.Take([1]);
        known.Release(known.Take([2, 3]), new Dictionary<long, PointsState> { [2] = Hundred, [3] = Hundred });

        Assert.Equal(0, known.Count);
        known.Release(held, new Dictionary<long, PointsState> { [1] = Hundred });
        Assert.Equal(Hundred, known.Take([1]).Known![1]);
    }
}
