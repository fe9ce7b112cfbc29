using System.Globalization;

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
    /// <summary>Sums the histograms' <c>_count</c> and <c>_sum</c> series over their kinds, from Prometheus text.</summary>
    public static WriteRoad? Parse(string? text)
    {
        if (text is null)
            return null;
        double batches = 0, requests = 0, seconds = 0;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            var end = line.IndexOfAny('{', ' ');
            if (!line.StartsWith("patron_writes_") || end < 0)
                continue;
            var name = line[..end];
            if (!double.TryParse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                continue;
            if (name.StartsWith("patron_writes_batch_size") && name.EndsWith("_count"))
                batches += value;
            else if (name.StartsWith("patron_writes_batch_size") && name.EndsWith("_sum"))
                requests += value;
            else if (name.StartsWith("patron_writes_commit_duration") && name.EndsWith("_sum"))
                seconds += value;
        }
        return new WriteRoad(batches, requests, seconds);
    }

    public static WriteRoad? Between(WriteRoad? before, WriteRoad? after) =>
        before is { } b && after is { } a && a.Batches > b.Batches
            ? new WriteRoad(a.Batches - b.Batches, a.Requests - b.Requests, a.TransactionSeconds - b.TransactionSeconds)
            : null;

    public double BatchSize => Requests / Batches;

    public double TransactionMs => TransactionSeconds / Batches * 1000;
}
