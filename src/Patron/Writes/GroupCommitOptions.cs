namespace Patron.Writes;

/// <summary>How requests are gathered into shared transactions: <c>--GroupCommit:MaxBatch</c>, <c>--GroupCommit:Writers</c>.</summary>
public sealed class GroupCommitOptions
{
    /// <summary>The most requests one transaction carries.</summary>
    public int MaxBatch { get; set; } = 256;

    /// <summary>Writer loops per kind of write and process: while one commits, the next gathers.</summary>
    public int Writers { get; set; } = 2;

    /// <summary>
    /// How many requests must wait before a second writer starts a batch beside one in flight
    /// (<see cref="WriterTurns"/>), for every kind of write; unset, each kind's own
    /// (<see cref="BatchOverlapAt"/> or <see cref="CardOverlapAt"/>).
    /// </summary>
    public int? OverlapAt { get; set; }

    /// <summary>
    /// Points changes, cancels and refunds: much of a points batch's cost in the database is the
    /// batch's own (its round trips, levels and settings, the commit), so a second batch of a few
    /// requests would cost nearly what a full one does.
    /// </summary>
    public const int BatchOverlapAt = 16;

    /// <summary>
    /// Card uses and sales: each costs the database more of its own (its row and kept answer, a log
    /// row, the entry's counts), so a smaller batch costs little more a request. At 32 connections 8
    /// served more uses than 16 in 8 of 11 alternated pairs (median 1.10×) and more sales in 6 of 8
    /// (1.13×), where points adds served fewer in every pair (bench/results/overlap-2026-12-07.md).
    /// </summary>
    public const int CardOverlapAt = 8;

    /// <summary>How long a writer waits for more requests before it commits a batch that is not full; 0, not at all.</summary>
    public int GatherMilliseconds { get; set; }

    /// <summary>
    /// For fault tests, never in production: how long a batch's answers wait after its commit, so
    /// that a process killed at a random moment is often caught between the two.
    /// </summary>
    public int AnswerDelayMilliseconds { get; set; }
}
