using Microsoft.EntityFrameworkCore;
using Npgsql;
using Patron.Data;

namespace Patron.Tests.Infrastructure;

/// <summary>A storage backend that can hand each test a fresh database, empty or migrated.</summary>
public abstract class Backend
{
    private readonly Lazy<Task<string>> _template;

    private Backend() => _template = new(TemplateAsync);

    public abstract string Storage { get; }

    public abstract Task<string> NewDatabaseAsync();

    /// <summary>
    /// A fresh database whose schema the real migrations made: a copy of one database per run that
    /// they migrated, rather than a dozen migrations run again for every test (each a synced commit on
    /// SQLite). The host still runs its own migrator at start-up, which finds nothing left to do.
    /// </summary>
    public abstract Task<string> NewMigratedDatabaseAsync();

    /// <summary>The database <see cref="NewMigratedDatabaseAsync"/> copies: its file, or its name.</summary>
    protected Task<string> Template => _template.Value;

    /// <summary>Makes a new database for <see cref="Template"/>, migrated, with no connection left open to it.</summary>
    private protected abstract Task<string> TemplateAsync();

    /// <summary>Without pooling, so that no connection outlives the migration: a copy must not see one half-written.</summary>
    private async Task MigrateAsync(string connection)
    {
        await using var db = Open(connection + ";Pooling=False");
        await db.Database.MigrateAsync();
    }

    /// <summary>A context of the product's model on a test's database, for what a test checks behind the service.</summary>
    public PatronDb Open(string connection) => this == Sqlite
        ? new SqlitePatronDb(new DbContextOptionsBuilder<SqlitePatronDb>().UseSqlite(connection).Options)
        : new PostgresPatronDb(new DbContextOptionsBuilder<PostgresPatronDb>().UseNpgsql(ShortLived(connection)).Options);

    /// <summary>
    /// Npgsql keeps an idle pooled connection for 5 minutes by default, and every test database
    /// gets its own pool: at a few tests a second the idle connections of finished tests filled the
    /// cluster's max_connections. These are closed a few seconds after their test is done with them.
    /// </summary>
    private static string ShortLived(string connection) =>
        new NpgsqlConnectionStringBuilder(connection) { ConnectionIdleLifetime = 2, ConnectionPruningInterval = 1 }.ConnectionString;

    public static readonly Backend Sqlite = new SqliteBackend();
    public static readonly Backend Postgres = new PostgresBackend();

    private sealed class SqliteBackend : Backend
    {
        public override string Storage => "sqlite";

        public override Task<string> NewDatabaseAsync() => Task.FromResult($"Data Source={TestScratch.NewPath("db-", ".db")}");

        public override async Task<string> NewMigratedDatabaseAsync()
        {
            var path = TestScratch.NewPath("db-", ".db");
            File.Copy(await Template, path);
            return $"Data Source={path}";
        }

        private protected override async Task<string> TemplateAsync()
        {
            var path = TestScratch.NewPath("template-", ".db");
            await MigrateAsync($"Data Source={path}");
            return path;
        }
    }

    private sealed class PostgresBackend : Backend
    {
        public override string Storage => "postgres";

        public override async Task<string> NewDatabaseAsync() => await (await PostgresCluster.GetAsync()).CreateDatabaseAsync();

        // PostgreSQL copies a database only while no one is connected to it.
        public override async Task<string> NewMigratedDatabaseAsync() => await (await PostgresCluster.GetAsync()).CreateDatabaseAsync(await Template);

        private protected override async Task<string> TemplateAsync()
        {
            var connection = await NewDatabaseAsync();
            await MigrateAsync(connection);
            return new NpgsqlConnectionStringBuilder(connection).Database!;
        }
    }
}
