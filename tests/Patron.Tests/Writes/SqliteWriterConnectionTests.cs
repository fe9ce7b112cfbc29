using Microsoft.Data.Sqlite;
using Patron.Tests.Infrastructure;
using Patron.Writes;
using SQLitePCL;

namespace Patron.Tests.Writes;

/// <summary>
/// On SQLite a writer keeps its connection from batch to batch, and with it the statements it
/// compiled; between batches it must hold nothing open that a checkpoint or another writer waits on.
/// </summary>
public sealed class SqliteWriterConnectionTests() : PatronTest(Backend.Sqlite)
{
    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) =>
        builder.UseSetting("RateLimit:PermitsPerSecond", "0");

    /// <summary>The service's kind of writer connections, apart from the service's own, whose writers may take one at any moment.</summary>
    private SqliteWriterConnections Writers() => new(new SqliteConnectionStringBuilder(Connection));

    [Fact]
    public async Task ASettledBatchHandsItsConnectionToTheNextAndAFailedOneClosesIt()
    {
        await using var connections = Writers();
        var first = await connections.OpenAsync(CancellationToken.None);
        var statement = SqliteSql.Prepare(first, "SELECT 1", 0);
        await connections.ReleaseAsync(first, settled: true);

        var second = await connections.OpenAsync(CancellationToken.None);
        Assert.Same(first, second);
        Assert.Same(statement, SqliteSql.Prepare(second, "SELECT 1", 0));
        await connections.ReleaseAsync(second, settled: false);

        var third = await connections.OpenAsync(CancellationToken.None);
        Assert.NotSame(first, third);
        Assert.Equal(System.Data.ConnectionState.Closed, first.State);
        Assert.Equal(1L, await SqliteSql.Prepare(third, "SELECT 1", 0).ExecuteScalarAsync());
        await connections.ReleaseAsync(third, settled: true);
    }

    [Fact]
    public async Task AWritersKeptStatementsLeaveItsLookasideRoomToWork()
    {
        // SQLite's default lookaside has 123 slots here; the statements a writer keeps would fill it.
        await using var connections = Writers();
        var connection = await connections.OpenAsync(CancellationToken.None);
        for (var i = 0; i < 40; i++)
            await SqliteSql.Prepare(connection, $"SELECT balance + {i} FROM members WHERE id = $1", 1).Bind([1L]).ExecuteScalarAsync();
        raw.sqlite3_db_status(((SqliteConnection)connection).Handle!, 0, out var used, out _, 0); // SQLITE_DBSTATUS_LOOKASIDE_USED
        Assert.True(used > 200, $"{used} lookaside slots in use");
        await connections.ReleaseAsync(connection, settled: false);
    }

    [Fact]
    public async Task BetweenBatchesTheWritersHoldNoSnapshotACheckpointWaitsFor()
    {
        // Every kind of write on SQLite: points (with a spend, which reads lots), a card sale and a use.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(0, (await Partner.AddPointsAsync(1 + i % 5, "P", 10, $"b-{i}", key: $"k-{i}")).Errcode);
            Assert.Equal(0, (await Partner.AddPointsAsync(1 + i % 5, "E", -1, $"s-{i}", key: $"s-{i}")).Errcode);
        }
        var openApi = new OpenApiClient(App.CreateClient());
        var card = (await openApi.SellAsync("S-1")).Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await openApi.UseAsync(card, "U-1", "2026-01-05 12:00:00")).Code);

        // A TRUNCATE checkpoint copies the whole log back and empties it, which it cannot do while
        // any connection reads from a snapshot inside the log: it reports busy instead.
        await using var admin = new SqliteConnection(Connection);
        await admin.OpenAsync();
        await using var checkpoint = admin.CreateCommand();
        checkpoint.CommandText = "PRAGMA busy_timeout = 5000";
        await checkpoint.ExecuteNonQueryAsync();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        await using var r = await checkpoint.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        Assert.Equal(0L, r.GetInt64(0)); // busy
        Assert.Equal(0L, r.GetInt64(1)); // frames left in the log
    }
}
