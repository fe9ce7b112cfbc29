using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Tests.Infrastructure;

/// <summary>A storage backend that can hand each test a fresh, empty database.</summary>
public abstract class Backend
{
    public abstract string Storage { get; }

    public abstract Task<string> NewDatabaseAsync();

    /// <summary>A context of the product's model on a test's database, for what a test checks behind the service.</summary>
    public PatronDb Open(string connection) => this == Sqlite
        ? new SqlitePatronDb(new DbContextOptionsBuilder<SqlitePatronDb>().UseSqlite(connection).Options)
        : new PostgresPatronDb(new DbContextOptionsBuilder<PostgresPatronDb>().UseNpgsql(connection).Options);

    public static readonly Backend Sqlite = new SqliteBackend();
    public static readonly Backend Postgres = new PostgresBackend();

    private sealed class SqliteBackend : Backend
    {
        public override string Storage => "sqlite";

        public override Task<string> NewDatabaseAsync() => Task.FromResult($"Data Source={TestScratch.NewPath("db-", ".db")}");
    }

    private sealed class PostgresBackend : Backend
    {
        public override string Storage => "postgres";

        public override async Task<string> NewDatabaseAsync() => await (await PostgresCluster.GetAsync()).CreateDatabaseAsync();
    }
}
