namespace Patron.Bench;

/// <summary>
/// PostgreSQL's write-ahead log as a server that has been up a while has it. A new cluster has no
/// log segment to reuse, so every 16 MB of log it first writes a new segment full of zeros and
/// flushes it, and the commits that need that segment wait. At 15,000 points adds a second, about
/// 1 KB of log each, that is a stall of some 30 ms about once a second, both writers' commits
/// held together, and it set the p99 of the cases at 256 connections. A server past its first
/// checkpoints renames the segments it no longer needs into the ones it will write next, so it
/// zero-fills a segment only when the log outgrows what it kept. Hence: a gigabyte of log once
/// (<c>min_wal_size</c>, the least a checkpoint keeps for reuse), and a checkpoint before every
/// case, which recycles what the case before it filled and writes what it left dirty before the
/// quiet check, not in the middle of the next case.
/// </summary>
public static class WalSegments
{
    /// <summary>At least <c>min_wal_size</c> (1 GB, bench/postgresql.conf) of log, for the checkpoints to recycle.</summary>
    public static async Task FillAsync(Pgbench pgbench)
    {
        await pgbench.Psql("postgres", "-c",
            "CREATE TABLE wal_filler AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 2000000) AS g");
        await pgbench.Psql("postgres", "-c", "DROP TABLE wal_filler");
        await CheckpointAsync(pgbench);
    }

    public static Task CheckpointAsync(Pgbench pgbench) => pgbench.Psql("postgres", "-c", "CHECKPOINT");
}
