using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Patron.Metrics;

/// <summary>One instrument's totals since start: a counter's sum, a histogram's count and sum, a gauge's last reading.</summary>
public sealed record LiveInstrument(string Name, string Kind, string? Unit, long Count, double Sum, IReadOnlyDictionary<string, double>? Split);

/// <summary>What the console's live panel polls: every instrument of every "Patron" meter, however many exist.</summary>
public sealed record LiveSnapshot(DateTimeOffset At, IReadOnlyList<LiveInstrument> Instruments);

/// <summary>
/// The dashboard's live panel reads the same measurements /metrics exports, through a
/// <see cref="MeterListener"/> over every meter named "Patron": ours and any another part of the
/// service creates (the webhook dispatcher's outbox lag and failures), without knowing them.
/// Each measurement adds to its instrument's totals with an interlocked add: no lock, no allocation.
/// Totals are this process's since it started; the panel turns them into rates between polls.
/// </summary>
public sealed class LiveMetrics : IDisposable
{
    /// <summary>Instruments whose totals the panel shows per value of one tag.</summary>
    private static readonly Dictionary<string, string> SplitBy = new()
    {
        ["patron.points"] = "direction",
        ["patron.card_uses"] = "outcome",
    };

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, Totals> _totals = new();
    private readonly Lock _observing = new();

    public LiveMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name != PatronMetrics.MeterName)
                return;
            // Two meters named "Patron" may each create an instrument of one name: they share totals.
            var totals = _totals.GetOrAdd(instrument.Name, _ => new Totals(instrument, SplitBy.GetValueOrDefault(instrument.Name)));
            listener.EnableMeasurementEvents(instrument, totals);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((Totals)state!).Add(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((Totals)state!).Add(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((Totals)state!).Add(value, tags));
        _listener.Start();
    }

    public LiveSnapshot Snapshot(DateTimeOffset at)
    {
        lock (_observing)
        {
            foreach (var totals in _totals.Values.Where(t => t.Observable))
                totals.Reset();
            _listener.RecordObservableInstruments();
            return new LiveSnapshot(at, [.. _totals.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => t.Read())]);
        }
    }

    public void Dispose() => _listener.Dispose();

    private sealed class Totals(Instrument instrument, string? splitTag)
    {
        private readonly ConcurrentDictionary<string, Cell> _split = new();
        private long _count;
        private double _sum;

        public string Name { get; } = instrument.Name;

        /// <summary>Read afresh at each snapshot: the sum of this collection's readings, one per tag set.</summary>
        public bool Observable { get; } = instrument.IsObservable;

        private string Kind { get; } = instrument switch
        {
            _ when instrument.IsObservable => "gauge",
            Histogram<long> or Histogram<int> or Histogram<double> => "histogram",
            _ => "counter",
        };

        public void Add(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            Interlocked.Increment(ref _count);
            AddTo(ref _sum, value);
            if (splitTag is null)
                return;
            foreach (var tag in tags)
            {
                if (tag.Key == splitTag && tag.Value is string key)
                {
                    // A lock-free read once the value has been seen; new cells only for a new tag value.
                    AddTo(ref _split.GetOrAdd(key, static _ => new Cell()).Sum, value);
                    return;
                }
            }
        }

        public void Reset()
        {
            Interlocked.Exchange(ref _count, 0);
            Interlocked.Exchange(ref _sum, 0);
            _split.Clear();
        }

        public LiveInstrument Read() => new(Name, Kind, instrument.Unit, Interlocked.Read(ref _count), Volatile.Read(ref _sum),
            splitTag is null ? null : _split.ToDictionary(c => c.Key, c => Volatile.Read(ref c.Value.Sum)));

        private sealed class Cell
        {
            public double Sum;
        }

        private static void AddTo(ref double target, double value)
        {
            var seen = Volatile.Read(ref target);
            while (true)
            {
                var found = Interlocked.CompareExchange(ref target, seen + value, seen);
                if (found.Equals(seen))
                    return;
                seen = found;
            }
        }
    }
}

public static class LiveMetricsEndpoint
{
    /// <summary>Maps the panel's endpoint and starts listening now, so that the totals count from start-up.</summary>
    public static RouteHandlerBuilder MapLiveMetrics(this IEndpointRouteBuilder api)
    {
        api.ServiceProvider.GetRequiredService<LiveMetrics>();
        return api.MapGet("/dashboard/live", (LiveMetrics live, TimeProvider clock) => TypedResults.Ok(live.Snapshot(clock.GetUtcNow())))
            .WithTags("Dashboard");
    }
}
