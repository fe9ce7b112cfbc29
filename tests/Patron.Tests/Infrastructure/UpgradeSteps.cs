using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Patron.Data;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// A fresh database migrated up to just before one migration, for a test that writes what an older
/// version left and then upgrades: rows are written in SQL, as that version's schema has them.
/// </summary>
public sealed class UpgradeSteps(Backend backend, PatronDb db) : IAsyncDisposable
{
    public PatronDb Db => db;

    public static async Task<UpgradeSteps> BeforeAsync(Backend backend, string migration)
    {
        var db = backend.Open(await backend.NewDatabaseAsync());
        var migrations = db.Database.GetMigrations().ToList();
        await db.GetService<IMigrator>().MigrateAsync(migrations[migrations.FindIndex(m => m.EndsWith("_" + migration, StringComparison.Ordinal)) - 1]);
        return new(backend, db);
    }

    /// <summary>An instant as the backend stores it, for a row written in SQL.</summary>
    public object Stored(DateTimeOffset t) => backend == Backend.Sqlite ? new DateTimeOffsetToBinaryConverter().ConvertToProvider(t)! : t;

    /// <summary>The rest of the migrations, up to the latest.</summary>
    public Task UpgradeAsync() => db.GetService<IMigrator>().MigrateAsync();

    public ValueTask DisposeAsync() => db.DisposeAsync();
}
