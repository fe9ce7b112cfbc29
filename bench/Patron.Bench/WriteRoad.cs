namespace Patron.Bench;

/// <summary>
/// The write road's own counters, from the service's <c>/metrics</c> (<see cref="Scrape"/>) at the
/// start and end of a case: batches committed, the requests they carried and the
/// seconds their transactions took, over every kind of write. Their difference says how large the
/// batches were and how long one took, which the request latency alone cannot: what part of a
/// request's time was its batch's transaction, and what part was spent before and after it.
/// </summary>
public readonly record struct WriteRoad(double Batches, double Requests, double TransactionSeconds)
{
    /// <summary>The histograms' <c>_count</c> and <c>_sum</c> series, summed over their kinds; null without a scrape.</summary>
    public static WriteRoad? Parse(string? text) => text is null ? null : new WriteRoad(
        Scrape.Sum(text, "patron_writes_batch_size_count") ?? 0,
        Scrape.Sum(text, "patron_writes_batch_size_sum") ?? 0,
        Scrape.Sum(text, "patron_writes_commit_duration_seconds_sum") ?? 0);

    public static WriteRoad? Between(WriteRoad? before, WriteRoad? after) =>
        before is { } b && after is { } a && a.Batches > b.Batches
            ? new WriteRoad(a.Batches - b.Batches, a.Requests - b.Requests, a.TransactionSeconds - b.TransactionSeconds)
            : null;

    public double BatchSize => Requests / Batches;

    public double TransactionMs => TransactionSeconds / Batches * 1000;
}
