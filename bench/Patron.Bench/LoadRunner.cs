using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Patron.Bench;

/// <summary>Tells a good answer from a failed one: null when good, else what went wrong.</summary>
public delegate string? ResponseCheck(HttpStatusCode status, byte[] body);

/// <summary>One HTTP case: a request factory (each call a new, unique request) and the check of its answer.</summary>
public sealed record LoadCase(string Key, string Title, ServiceProcess Service, Func<HttpRequestMessage> NewRequest, ResponseCheck Check);

/// <summary>A worker's way to the service: it sends a request and reads the whole answer, one at a time.</summary>
public interface ILoadConnection : IDisposable
{
    Task<(HttpStatusCode Status, byte[] Body)> SendAsync(HttpRequestMessage request, CancellationToken ct);
}

/// <summary>Through a shared <see cref="HttpClient"/>: what a .NET partner would use, and the load generator before <see cref="RawHttpConnection"/>.</summary>
public sealed class HttpClientConnection(HttpClient http) : ILoadConnection
{
    public async Task<(HttpStatusCode Status, byte[] Body)> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(ct));
    }

    public void Dispose()
    {
    }
}

/// <summary>One case in one round. Latencies in milliseconds; CPU in percent of one core.</summary>
public sealed record CaseResult(
    string Key, int Round, double Throughput, double P50Ms, double P99Ms, long Succeeded, long Failed, long WarmupFailed,
    double? PeakRssMb, double? ServiceCpuPercent, double? ServiceCpuUsPerRequest, double ClientCpuPercent, double MachineBusyPercent,
    int LogWarnings, int LogErrors, IReadOnlyDictionary<string, long> Failures)
{
    /// <summary>PostgreSQL's own CPU (all its processes) per request or transaction, in µs; null where not counted.</summary>
    public double? PostgresCpuUsPerRequest { get; init; }

    /// <summary>The batches the write road committed during the measurement; null for a case that writes nothing.</summary>
    public WriteRoad? Writes { get; init; }

    /// <summary>What the service allocated and collected during the measurement; null when its <c>/metrics</c> does not say.</summary>
    public ServiceHeap? Heap { get; init; }
}

/// <summary>
/// A closed-loop load generator: N workers over N keep-alive connections, each sending its next
/// request as soon as the last one is answered, or, under a rate, when its turn comes (a worker
/// that falls behind sends at once, so past what the service can do a rate is a closed loop).
/// Requests answered during the warm-up are not counted; those still in flight when the
/// measurement ends are dropped.
/// </summary>
public static class LoadRunner
{
    public static HttpClient NewClient(Uri baseAddress, int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestVersion = HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    public static async Task<CaseResult> RunAsync(LoadCase c, Func<ILoadConnection> connect, int connections, TimeSpan warmup, TimeSpan duration, int round,
        int rate = 0)
    {
        var failures = new FailureLog();
        var start = Stopwatch.GetTimestamp();
        var measureStart = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var measureEnd = measureStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var (warnings, errors) = (c.Service.Warnings, c.Service.Errors);
        c.Service.Phase = $"{c.Key}, round {round}";
        c.Service.ResetPeakRss();

        // Each worker's turns are its share of the rate, the workers' first turns spread over one interval.
        var interval = rate > 0 ? connections * Stopwatch.Frequency / rate : 0;
        var workers = Enumerable.Range(0, connections).Select(i => new Worker(interval, start + interval * i / connections)).ToArray();
        var running = workers.Select(w => Task.Run(async () =>
        {
            using var connection = connect();
            await w.RunAsync(c, connection, measureStart, measureEnd, failures);
        })).ToArray();

        await Until(measureStart);
        var before = Counters.Read(c.Service);
        var scrapedBefore = await Scrape.ReadAsync(c.Service.Url);
        await Until(measureEnd);
        var after = Counters.Read(c.Service);
        var scrapedAfter = await Scrape.ReadAsync(c.Service.Url);
        await Task.WhenAll(running);
        var peakRss = c.Service.PeakRssMb();
        c.Service.Phase = "between cases";

        var latencies = workers.SelectMany(w => w.LatencyTicks).ToArray();
        Array.Sort(latencies);
        var succeeded = latencies.LongLength;
        var seconds = duration.TotalSeconds;
        var serviceCpu = after.Service - before.Service;
        return new CaseResult(
            c.Key, round, succeeded / seconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99), succeeded,
            workers.Sum(w => w.Failed), workers.Sum(w => w.WarmupFailed), peakRss,
            100 * serviceCpu / seconds, succeeded == 0 ? null : serviceCpu / succeeded * 1e6,
            100 * (after.Client - before.Client) / seconds,
            100 * (after.MachineBusy - before.MachineBusy) / (after.MachineTotal - before.MachineTotal),
            c.Service.Warnings - warnings, c.Service.Errors - errors, failures.Snapshot())
        {
            PostgresCpuUsPerRequest = succeeded == 0 ? null : (after.Postgres - before.Postgres) / succeeded * 1e6,
            Writes = WriteRoad.Between(WriteRoad.Parse(scrapedBefore), WriteRoad.Parse(scrapedAfter)),
            Heap = ServiceHeap.Between(ServiceHeap.Parse(scrapedBefore), ServiceHeap.Parse(scrapedAfter)),
        };
    }

    private static Task Until(long timestamp)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        return wait > TimeSpan.Zero ? Task.Delay(wait) : Task.CompletedTask;
    }

    /// <summary>Nearest-rank percentile of sorted Stopwatch ticks, in milliseconds.</summary>
    public static double Percentile(long[] sortedTicks, double p)
    {
        if (sortedTicks.Length == 0)
            return double.NaN;
        var rank = (int)Math.Ceiling(p * sortedTicks.Length) - 1;
        return sortedTicks[Math.Clamp(rank, 0, sortedTicks.Length - 1)] * 1000.0 / Stopwatch.Frequency;
    }

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private sealed class Worker(long interval, long firstTurn)
    {
        private long _turn = firstTurn;

        // Grown as needed: at 256 connections, 64 Ki ticks each would hold 128 MB before the first request.
        public List<long> LatencyTicks { get; } = new(4096);
        public long Failed { get; private set; }
        public long WarmupFailed { get; private set; }

        public async Task RunAsync(LoadCase c, ILoadConnection connection, long measureStart, long measureEnd, FailureLog failures)
        {
            while (true)
            {
                if (interval > 0)
                {
                    await Until(_turn);
                    _turn += interval;
                }
                var sent = Stopwatch.GetTimestamp();
                if (sent >= measureEnd)
                    return;
                string? error;
                try
                {
                    using var request = c.NewRequest();
                    using var timeout = new CancellationTokenSource(RequestTimeout);
                    var (status, body) = await connection.SendAsync(request, timeout.Token);
                    error = c.Check(status, body);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or SocketException)
                {
                    error = $"{e.GetType().Name}: {e.Message}";
                }
                var answered = Stopwatch.GetTimestamp();
                if (answered > measureEnd)
                    return;
                if (answered < measureStart)
                {
                    if (error is not null)
                    {
                        WarmupFailed++;
                        failures.Add("(warm-up) " + error);
                    }
                    continue;
                }
                if (error is null)
                    LatencyTicks.Add(answered - sent);
                else
                {
                    Failed++;
                    failures.Add(error);
                }
            }
        }
    }

    private readonly record struct Counters(double Service, double Client, double? Postgres, double MachineBusy, double MachineTotal)
    {
        public static Counters Read(ServiceProcess service)
        {
            var (busy, total) = ProcStat.Machine();
            return new Counters(service.CpuSeconds(), Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, ProcStat.PostgresCpuSeconds(),
                busy, total);
        }
    }
}

/// <summary>Failure messages with their counts, quoted exactly in the report (the first few distinct ones).</summary>
public sealed class FailureLog
{
    private const int MaxDistinct = 20;
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Add(string message)
    {
        if (_counts.Count >= MaxDistinct && !_counts.ContainsKey(message))
            message = "(other messages)";
        _counts.AddOrUpdate(message, 1, (_, n) => n + 1);
    }

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts, StringComparer.Ordinal);
}

/// <summary>The checks of each kind of answer.</summary>
public static class Checks
{
    /// <summary>The reads (/health, the native API) answer 200 with their data.</summary>
    public static string? Ok(HttpStatusCode status, byte[] body) =>
        status == HttpStatusCode.OK ? null : $"HTTP {(int)status}: {Text(body)}";

    /// <summary>Point/Add answers <c>{"errcode":0,…}</c> on success.</summary>
    public static string? PointsEnvelope(HttpStatusCode status, byte[] body) => Envelope(status, body, "errcode"u8, "errcode");

    /// <summary>The open API answers <c>{"code":0,…}</c> on success.</summary>
    public static string? OpenApiEnvelope(HttpStatusCode status, byte[] body) => Envelope(status, body, "code"u8, "code");

    private static string? Envelope(HttpStatusCode status, byte[] body, ReadOnlySpan<byte> field, string name)
    {
        if (status != HttpStatusCode.OK)
            return $"HTTP {(int)status}: {Text(body)}";
        try
        {
            var json = new Utf8JsonReader(body);
            if (json.Read() && json.TokenType == JsonTokenType.StartObject)
            {
                while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
                {
                    var match = json.ValueTextEquals(field);
                    json.Read();
                    if (match)
                        return json.TokenType == JsonTokenType.Number && json.TryGetInt64(out var code) && code == 0 ? null : $"{name} != 0: {Text(body)}";
                    json.Skip();
                }
            }
        }
        catch (JsonException)
        {
        }
        return $"no {name} in the answer: {Text(body)}";
    }

    public static string Text(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 400));
        return body.Length > 400 ? text + "…" : text;
    }
}
