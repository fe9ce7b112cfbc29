using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests;

/// <summary>
/// On SQLite no commit checkpoints the write-ahead log (the request behind it would wait for the
/// database file to be flushed); a background service does, and keeps the log bounded under a
/// steady stream of writes.
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
    public async Task TheLogStaysBoundedUnderSteadyWrites()
    {
        const int adds = 1_600;
        const int clients = 8;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            for (var i = c; i < adds; i += clients)
                Assert.Equal(0, (await Partner.AddPointsAsync(1 + i % TestCatalog.MemberCount, "P", 1, $"b-{i}", key: $"k-{i}")).Errcode);
        }));

        // Each commit appends several pages to the log; unchecked, 1,600 of them would leave it tens of MB long.
        var wal = new FileInfo(new SqliteConnectionStringBuilder(Connection).DataSource + "-wal");
        Assert.True(wal.Exists, "the database is not in WAL mode");
        Assert.True(wal.Length < 8 * 1024 * 1024, $"the log grew to {wal.Length:N0} bytes");
        Assert.Equal(adds, await LedgerCountAsync());
    }
}
