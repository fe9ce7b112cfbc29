using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Writes;

public abstract class RestartTests(Backend backend) : PatronTest(backend)
{
    [Fact]
    public async Task ANewHostOnTheSameDatabaseKeepsEveryBalanceAndLedgerRow()
    {
        await Partner.AddPointsAsync(1, "P", 1100, key: "before-restart");
        await Partner.AddPointsAsync(2, "S", 70);
        await Partner.AddPointsAsync(1, "E", -100);
        var ledgerBefore = await App.QueryAsync(db => db.PointEntries.OrderBy(p => p.AutoId).Select(p => new { p.AutoId, p.BalanceAfter }).ToListAsync());
        await App.DisposeAsync();

        var restarted = StartApp();
        var client = PartnerClient(restarted, TestCatalog.ApiKey);
        var replay = await client.AddPointsAsync(1, "P", 1100, key: "before-restart");
        var next = await client.AddPointsAsync(1, "P", 1);

        var ledgerAfter = await restarted.QueryAsync(db => db.PointEntries.OrderBy(p => p.AutoId).Select(p => new { p.AutoId, p.BalanceAfter }).ToListAsync());
        Assert.Equal(ledgerBefore, ledgerAfter.Take(3));
        Assert.Equal(ledgerBefore[0].AutoId, replay.TagLong("AutoId"));
        Assert.Equal((1000L, 1001L, 64L), (next.TagLong("ValuePointBefore"), next.TagLong("ValuePointAfter"), next.TagLong("MemberLevelIdAfter")));
        Assert.Equal(70, await restarted.QueryAsync(db => db.Members.Where(m => m.Id == 2).Select(m => m.Balance).SingleAsync()));
    }
}

public sealed class RestartTestsOnSqlite() : RestartTests(Backend.Sqlite);

public sealed class RestartTestsOnPostgres() : RestartTests(Backend.Postgres);
