using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points.Lots;

/// <summary>A chain upgrading keeps every point: each balance becomes one lot, and the ledger's earnings are counted.</summary>
public abstract class LotsMigrationTests(Backend backend)
{
    [Fact]
    public async Task UpgradingTurnsEachBalanceIntoALotThatNeverExpires()
    {
        await using var upgrade = await UpgradeSteps.BeforeAsync(backend, "PointLots");
        var db = upgrade.Db;

        var created = new DateTimeOffset(2025, 6, 1, 10, 0, 0, TimeSpan.Zero);
        await db.Database.ExecuteSqlRawAsync(
            "INSERT INTO members (id, code, level_id, balance, lifetime_earned, created_at) VALUES (1, 'M1', 1, 70, 100, {0}), (2, 'M2', 1, 0, 0, {0})",
            upgrade.Stored(created));
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO point_ledger (member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before, level_after, actor, created_at)
            VALUES (1, 'P', 'A', 100, 0, 100, 1, 1, 'pos', {0}), (1, 'E', 'B', -30, 100, 70, 1, 1, 'pos', {0})
            """, upgrade.Stored(created));

        await upgrade.UpgradeAsync();

        var lot = await db.PointLots.AsNoTracking().SingleAsync();
        Assert.Equal((1L, 70L, 70L, false, "O", (DateTimeOffset?)null), (lot.MemberId, lot.Amount, lot.Remaining, lot.Pending, lot.BusiType, lot.ExpiresAt));
        Assert.Equal(created, lot.AvailableAt);
        Assert.Equal([100L, 0L], await db.PointEntries.AsNoTracking().OrderBy(e => e.AutoId).Select(e => e.Earned).ToListAsync());
        Assert.Equal(created, (await db.Members.AsNoTracking().SingleAsync(m => m.Id == 1)).LevelSince);
    }
}

public sealed class LotsMigrationTestsOnSqlite() : LotsMigrationTests(Backend.Sqlite);

public sealed class LotsMigrationTestsOnPostgres() : LotsMigrationTests(Backend.Postgres);
