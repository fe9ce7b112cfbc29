using System.Text.Json.Nodes;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points;

/// <summary>A chain that measures levels on the current balance (catalog levelBasis "balance").</summary>
public abstract class BalanceBasisTests(Backend backend) : PatronTest(backend)
{
    protected override JsonObject Catalog() => TestCatalog.Build(levelBasis: "balance");

    [Fact]
    public async Task PromotionFollowsTheBalanceAndSpendingNeverDemotes()
    {
        await Partner.AddPointsAsync(1, "P", 900);
        await Partner.AddPointsAsync(1, "E", -500);
        var stillBelow = await Partner.AddPointsAsync(1, "P", 200);   // lifetime 1100, balance 600
        var crossing = await Partner.AddPointsAsync(1, "P", 400);     // balance 1000
        var spent = await Partner.AddPointsAsync(1, "E", -900);

        Assert.Equal((600L, 1L), (stillBelow.TagLong("ValuePointAfter"), stillBelow.TagLong("MemberLevelIdAfter")));
        Assert.Equal(64, crossing.TagLong("MemberLevelIdAfter"));
        Assert.Equal((100L, 64L), (spent.TagLong("ValuePointAfter"), spent.TagLong("MemberLevelIdAfter")));
    }
}

public sealed class BalanceBasisTestsOnSqlite() : BalanceBasisTests(Backend.Sqlite);

public sealed class BalanceBasisTestsOnPostgres() : BalanceBasisTests(Backend.Postgres);
