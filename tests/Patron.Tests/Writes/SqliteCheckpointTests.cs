using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Writes;

/// <summary>
/// On SQLite no commit checkpoints the write-ahead log (the request behind it would wait for the
/// database file to be flushed); a background service does.
/// </summary>
public sealed class SqliteCheckpointTests() : PatronTest(Backend.Sqlite)
{
    private const int RestartPages = 256;

    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Sqlite:CheckpointMilliseconds", "50");
        builder.UseSetting("Sqlite:WalRestartPages", RestartPages.ToString());
        builder.UseSetting("RateLimit:PermitsPerSecond", "0");
    }

    [Fact]
    public async Task ConnectionsLeaveCheckpointsToTheBackground()
    {
        var autocheckpoint = await App.QueryAsync(db => db.Database.SqlQueryRaw<long>("PRAGMA wal_autocheckpoint").ToListAsync());
        Assert.Equal([0L], autocheckpoint);
    }

    [Fact]
    public async Task TheBackgroundCheckpointMovesTheLogIntoTheDatabaseFile()
    {
        // Only a checkpoint writes to the database file itself; commits append to the log.
        var file = new FileInfo(new SqliteConnectionStringBuilder(Connection).DataSource);
        var before = file.Length;
        const int adds = 1_600;
        const int clients = 8;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            for (var i = c; i < adds; i += clients)
                Assert.Equal(0, (await Partner.AddPointsAsync(1 + i % TestCatalog.MemberCount, "P", 1, $"b-{i}", key: $"k-{i}")).Errcode);
        }));
        Assert.True(new FileInfo(file.FullName + "-wal").Exists, "the database is not in WAL mode");

        // 1,600 ledger rows and their indexes take well over 256 KB; no commit checkpoints, so only the background can have moved them.
        long Size()
        {
            file.Refresh();
            return file.Length;
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Size() < before + 256 * 1024 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.True(Size() >= before + 256 * 1024, $"the database file grew from {before:N0} to only {Size():N0} bytes");
        Assert.Equal(adds, await LedgerCountAsync());
    }
}
