using System.Collections.Frozen;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Patron.Points;
using Patron.Points.Lots;

namespace Patron.Metrics;

/// <summary>
/// Patron's own meter and its instruments (docs/metrics.md). Static rather than a DI singleton:
/// the places that measure (the write queues, the envelopes, the rate limiter) are reached from
/// static code and from constructors the lead's stores call, and a listener (OpenTelemetry, the
/// dashboard's <see cref="LiveMetrics"/>) subscribes to meters by name anyway, so a per-host meter
/// would be counted by every host's listener in the process just the same. Every tag value on the
/// hot path is a string that already exists: cached codes and statuses, route patterns, channel
/// names, so a measurement builds no string and takes no lock.
/// </summary>
public static class PatronMetrics
{
    public const string MeterName = "Patron";

    public static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Requests = Meter.CreateCounter<long>("patron.requests", "{request}",
        "Requests answered, by API (points, open, native, console), method and outcome code.");

    private static readonly Histogram<int> BatchSize = Meter.CreateHistogram<int>("patron.writes.batch_size", "{request}",
        "Requests one committed transaction of the write road carried, by kind of write.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });

    private static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>("patron.writes.commit_duration", "s",
        "Time of one batch's transaction (read under lock, decide, write, commit), by kind of write.",
        advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        });

    private static readonly Counter<long> PointsCounter = Meter.CreateCounter<long>("patron.points", "{point}",
        "Points moved by committed ledger rows, by direction (added, spent, expired), channel and busiType.");

    private static readonly Counter<long> CardUses = Meter.CreateCounter<long>("patron.card_uses", "{use}",
        "Card uses decided by the write road, by outcome: ok, or the error code.");

    private static readonly Counter<long> RateLimitedCalls = Meter.CreateCounter<long>("patron.rate_limited", "{call}",
        "Partner calls refused over their channel's rate limit, by channel.");

    private static readonly List<(string Kind, Func<int> Depth)> Queues = [];

    static PatronMetrics() =>
        Meter.CreateObservableGauge("patron.writes.queue_depth", ObserveQueues, "{request}",
            "Requests waiting for a writer, by kind of write.");

    public const string PointsApi = "points";
    public const string OpenApi = "open";
    public const string NativeApi = "native";
    public const string ConsoleApi = "console";
    public const string Ok = "ok";

    private const string Added = "added", Spent = "spent", Expired = "expired";
    private const string OperatorChannel = "operator";

    private static readonly FrozenDictionary<ErrorCode, string> Codes =
        Enum.GetValues<ErrorCode>().Distinct().ToFrozenDictionary(c => c, c => ((int)c).ToString(CultureInfo.InvariantCulture));

    private static readonly string[] Statuses =
        [.. Enumerable.Range(0, 600).Select(s => s.ToString(CultureInfo.InvariantCulture))];

    /// <summary>An error code as its tag value: the envelope's number, cached.</summary>
    public static string CodeTag(ErrorCode code) =>
        Codes.TryGetValue(code, out var tag) ? tag : ((int)code).ToString(CultureInfo.InvariantCulture);

    /// <summary>An envelope's errcode as its tag value.</summary>
    public static string CodeTag(int errcode) => CodeTag((ErrorCode)errcode);

    /// <summary>An HTTP status as its tag value, cached.</summary>
    public static string StatusTag(int status) =>
        (uint)status < (uint)Statuses.Length ? Statuses[status] : status.ToString(CultureInfo.InvariantCulture);

    public static void Request(string api, string method, string code) =>
        Requests.Add(1, new("api", api), new("method", method), new("code", code));

    public static void RateLimited(string channel) => RateLimitedCalls.Add(1, new KeyValuePair<string, object?>("channel", channel));

    /// <summary>One committed transaction of the write road.</summary>
    public static void Committed(string kind, int size, long startTimestamp)
    {
        var tag = new KeyValuePair<string, object?>("kind", kind);
        BatchSize.Record(size, tag);
        CommitDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tag);
    }

    /// <summary>
    /// The points a committed batch moved, from its new ledger rows: a retry answered with its
    /// kept answer writes no row and counts nothing. A pending earning moves no points until its
    /// activation row (A) adds them; a level review row (L) moves none.
    /// </summary>
    public static void PointsCommitted(IReadOnlyList<PointEntry> rows)
    {
        if (!PointsCounter.Enabled)
            return;
        for (var i = 0; i < rows.Count; i++) // an index, not an interface's boxed enumerator
        {
            var row = rows[i];
            if (row.ChangeValue == 0)
                continue;
            var direction = row.BusiType == Settlement.Expired ? Expired : row.ChangeValue > 0 ? Added : Spent;
            // A channel's rows carry its name as their actor; an operator's name is not a channel, and
            // one series per operator would grow with the staff.
            var channel = row.ChannelId is null && row.Actor != PointChange.SystemActor ? OperatorChannel : row.Actor;
            PointsCounter.Add(Math.Abs(row.ChangeValue),
                new("direction", direction), new("channel", channel), new("busiType", row.BusiType));
        }
    }

    /// <summary>Card uses a committed batch decided: each new use is ok; each refusal counts under its code.</summary>
    public static void CardUsesCommitted<T>(int newUses, IReadOnlyList<Outcome<T>> outcomes)
    {
        if (!CardUses.Enabled)
            return;
        if (newUses > 0)
            CardUses.Add(newUses, new KeyValuePair<string, object?>("outcome", Ok));
        for (var i = 0; i < outcomes.Count; i++)
            if (outcomes[i].Failure is { } failure)
                CardUses.Add(1, new KeyValuePair<string, object?>("outcome", CodeTag(failure.Code)));
    }

    /// <summary>A write queue's depth, observed at each collection until <see cref="Untrack"/>.</summary>
    public static void Track(string kind, Func<int> depth)
    {
        lock (Queues)
            Queues.Add((kind, depth));
    }

    public static void Untrack(Func<int> depth)
    {
        lock (Queues)
            Queues.RemoveAll(q => q.Depth == depth);
    }

    /// <summary>One value per kind: several hosts in one process (tests) add up, as their queues do.</summary>
    private static IEnumerable<Measurement<int>> ObserveQueues()
    {
        Dictionary<string, int> depths;
        lock (Queues)
        {
            depths = [];
            foreach (var (kind, depth) in Queues)
                depths[kind] = depths.GetValueOrDefault(kind) + depth();
        }
        return [.. depths.Select(d => new Measurement<int>(d.Value, new KeyValuePair<string, object?>("kind", d.Key)))];
    }
}
