using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points;

public abstract class ConcurrencyTests(Backend backend) : PatronTest(backend)
{
    private const int Adds = 200;
    private const int Workers = 32;

    /// <summary>Sends <see cref="Adds"/> +1 adds to one member from <see cref="Workers"/> tasks, spread over the clients.</summary>
    protected static async Task<List<Envelope>> HammerAsync(IReadOnlyList<HttpClient> clients, long memberId)
    {
        var next = -1;
        var answers = new System.Collections.Concurrent.ConcurrentBag<Envelope>();
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < Adds)
                answers.Add(await clients[n % clients.Count].AddPointsAsync(memberId, "P", 1, $"c-{n}", key: $"k-{n}"));
        })));
        return [.. answers];
    }

    protected async Task AssertExactlyOnceEachAsync(List<Envelope> answers, long memberId)
    {
        Assert.All(answers, a => Assert.Equal(0, a.Errcode));
        Assert.Equal(Adds, answers.Select(a => a.TagLong("AutoId")).Distinct().Count());
        Assert.Equal(Enumerable.Range(1, Adds).Select(i => (long)i), answers.Select(a => a.TagLong("ValuePointAfter")).Order());
        Assert.Equal(Adds, await BalanceAsync(memberId));

        // The ledger, in AutoId order, is one unbroken chain: each row starts where the previous ended.
        var rows = await App.QueryAsync(db => db.PointEntries.Where(p => p.MemberId == memberId).OrderBy(p => p.AutoId).ToListAsync());
        Assert.Equal(Enumerable.Range(0, Adds).Select(i => (long)i), rows.Select(r => r.BalanceBefore));
        Assert.Equal(rows.Sum(r => r.ChangeValue), await BalanceAsync(memberId));
    }

    [Fact]
    public async Task TwoHundredConcurrentAddsToOneMemberAreEachCountedOnce()
    {
        var answers = await HammerAsync([Partner], 1);

        await AssertExactlyOnceEachAsync(answers, 1);
    }

    [Fact]
    public async Task ConcurrentExchangesNeverTakeTheBalanceBelowZero()
    {
        await Partner.AddPointsAsync(2, "P", 10);
        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Partner.AddPointsAsync(2, "E", -1, $"e-{i}")));

        Assert.Equal(10, answers.Count(a => a.Errcode == 0));
        Assert.Equal(20, answers.Count(a => a.Errcode == 2201));
        Assert.Equal(0, await BalanceAsync(2));
    }
}

public sealed class ConcurrencyTestsOnSqlite() : ConcurrencyTests(Backend.Sqlite);

public sealed class ConcurrencyTestsOnPostgres() : ConcurrencyTests(Backend.Postgres)
{
    [Fact]
    public async Task TwoHostsSharingOnePostgresCountEachAddOnce()
    {
        var second = StartApp();
        var answers = await HammerAsync([Partner, PartnerClient(second, TestCatalog.ApiKey)], 3);

        await AssertExactlyOnceEachAsync(answers, 3);
    }

    [Fact]
    public async Task TwoHostsRacingOneKeyWriteOneRow()
    {
        var second = PartnerClient(StartApp(), TestCatalog.ApiKey);
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            (i % 2 == 0 ? Partner : second).AddPointsAsync(4, "P", 9, "twin", key: "two-hosts")));

        Assert.Single(answers.Select(a => a.TagLong("AutoId")).Distinct());
        Assert.Equal(9, await BalanceAsync(4));
    }

    [Fact]
    public async Task ThirtyExchangesThroughTwoHostsStopExactlyAtZero()
    {
        var second = PartnerClient(StartApp(), TestCatalog.ApiKey);
        Assert.Equal(0, (await Partner.AddPointsAsync(5, "P", 10, "seed", key: "seed-5")).Errcode);
        var rowsBefore = await LedgerRowsAsync(5);

        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            (i % 2 == 0 ? Partner : second).AddPointsAsync(5, "E", -1, $"x-{i}", key: $"x-{i}")));

        Assert.Equal(10, answers.Count(a => a.Errcode == 0));
        Assert.Equal(20, answers.Count(a => a.Errcode == 2201));
        Assert.Equal(0, await BalanceAsync(5));
        Assert.Equal(rowsBefore + 10, await LedgerRowsAsync(5));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), answers.Where(a => a.Errcode == 0).Select(a => a.TagLong("ValuePointAfter")).Order());
    }

    private Task<int> LedgerRowsAsync(long memberId) => App.QueryAsync(db => db.PointEntries.CountAsync(p => p.MemberId == memberId));
}
