using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Patron.Data;

// Used only by `dotnet ef migrations add … --context XxxPatronDb`; no database is touched.
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqlitePatronDb>
{
    public SqlitePatronDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqlitePatronDb>().UseSqlite("Data Source=design.db").Options);
}

public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresPatronDb>
{
    public PostgresPatronDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresPatronDb>().UseNpgsql("Host=localhost;Database=design").Options);
}
