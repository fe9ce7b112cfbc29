using Npgsql;

namespace Patron.Data;

/// <summary>
/// The group-commit writers' own pool of PostgreSQL connections. A writer sends the same few
/// statements for every batch, so Npgsql prepares them and PostgreSQL plans each one once per
/// connection (a generic plan), rather than parsing and planning them again for every batch.
/// Every one of those statements finds its rows through an index on the key it is given; with
/// sequential scans ruled out, a plan made while a table is still empty (a new database) cannot
/// settle on scanning the table, which would cost more with every row the table gains. That rule
/// prices a table read whole (the levels, a handful of rows) at 10¹⁰, far past the cost at which
/// PostgreSQL compiles a statement's expressions with LLVM at every execution (tens of ms each), so
/// JIT is off: these statements touch a few rows. A batch leaves no session state behind (it ends
/// in COMMIT, or ROLLBACK on failure), so a connection goes back to the pool without a reset.
/// </summary>
public static class WriterConnections
{
    public const string Key = "writers";

    public static NpgsqlDataSource Create(string connection)
    {
        var builder = new NpgsqlConnectionStringBuilder(connection) { NoResetOnClose = true };
        if (builder.MaxAutoPrepare == 0) // Npgsql's default: prepare nothing
            builder.MaxAutoPrepare = 32;
        builder.Options = $"{builder.Options} -c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c jit=off".Trim();
        return NpgsqlDataSource.Create(builder);
    }
}
