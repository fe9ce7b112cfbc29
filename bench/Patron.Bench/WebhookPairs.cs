using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Patron.Bench;

/// <summary>
/// Points add and card use on PostgreSQL with no webhook subscriber and with one (issue #24 asks
/// for one subscriber within 10 % of none). Every write puts its events in the outbox either way;
/// with a subscriber the dispatcher also sends each event to the receiver process (tests/WebhookReceiver,
/// answering 204 at once, writing nothing down), on the same cores. Each round runs each pair back
/// to back, the order alternating from round to round. The subscriber is a row in the service's
/// <c>webhooks</c> table, enabled or disabled before each case. After each case the benchmark
/// waits (up to <see cref="DrainLimit"/>) until the dispatcher has made the deliveries of every
/// event (it makes them from the outbox, and for a disabled subscriber none) and sent them, so
/// that the next case neither pays for this one's backlog nor sends its events; what is still
/// pending then is marked failed and counted in the report.
/// </summary>
public sealed class WebhookPairs
{
    public const string Key = "webhooks";

    /// <summary>The secret is stored as written: the service reads secrets stored before they were encrypted at rest.</summary>
    private const string Secret = "whsec_YmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtYmVuY2g=";

    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(120);
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// One case of a pair: the load average before it, the events it wrote (warm-up included), the
    /// deliveries made by its end and after it, how long the rest took, and what was left.
    /// </summary>
    public sealed record Side(string Case, int Round, bool On, string LoadBefore, long Events, long DeliveredByEnd, long Delivered,
        double DrainSeconds, long Abandoned, CaseResult Result);

    public List<Side> Sides { get; } = [];

    private bool? _fannedOut;

    public static string OffKey(string key) => $"{key}-hook-off";

    public static string OnKey(string key) => $"{key}-hook-on";

    /// <summary>Runs one round's pair of <paramref name="name"/>: without then with a subscriber in odd rounds, the other way in even ones.</summary>
    public async Task<List<CaseResult>> RunRoundAsync(string name, Func<bool, LoadCase> caseFor, Func<ILoadConnection> connect,
        BenchOptions options, QuietCheck quiet, Uri receiver, int round, Action<string> say)
    {
        var results = new List<CaseResult>();
        foreach (var on in round % 2 == 1 ? new[] { false, true } : [true, false])
        {
            await using var db = new NpgsqlConnection(options.PgConnection("patron"));
            await db.OpenAsync();
            _fannedOut ??= await FansOutAsync(db);
            await SubscribeAsync(db, on ? receiver : null);
            var (events, delivered, _) = await CountAsync(db);
            var load = (await quiet.WaitAsync(caseFor(on).Key, round)).LoadAverage;
            say($"round {round}/{options.Rounds}  {name}, {(on ? "one subscriber" : "no subscriber")}: load average {load}");
            var r = await LoadRunner.RunAsync(caseFor(on), connect, options.Connections, TimeSpan.FromSeconds(options.Warmup),
                TimeSpan.FromSeconds(options.Duration), round);
            var (eventsAfter, deliveredByEnd, _) = await CountAsync(db);
            var drain = Stopwatch.StartNew();
            var (_, deliveredAfter, pending) = await CountAsync(db);
            while (pending > 0 && drain.Elapsed < DrainLimit)
            {
                await Task.Delay(250);
                (_, deliveredAfter, pending) = await CountAsync(db);
            }
            if (pending > 0)
                await ExecuteAsync(db, "UPDATE webhook_deliveries SET state = 'F', last_error = 'abandoned by the benchmark' WHERE state = 'P'");
            if (on)
                say($"    {deliveredByEnd - delivered:N0} of {eventsAfter - events:N0} events delivered by the case's end, the rest in {drain.Elapsed.TotalSeconds:0.0} s" +
                    (pending > 0 ? $"; {pending:N0} still pending after {DrainLimit.TotalSeconds:0} s, abandoned" : ""));
            Sides.Add(new Side(name, round, on, load, eventsAfter - events, deliveredByEnd - delivered, deliveredAfter - delivered,
                drain.Elapsed.TotalSeconds, pending, r));
            results.Add(r);
        }
        return results;
    }

    /// <summary>The one subscriber of every event type, at <paramref name="url"/>; none when null.</summary>
    private static Task SubscribeAsync(NpgsqlConnection db, Uri? url) => url is null
        ? ExecuteAsync(db, "UPDATE webhooks SET enabled = false WHERE name = 'bench'")
        : ExecuteAsync(db, "INSERT INTO webhooks (name, url, events, secret, enabled, from_catalog, created_at) " +
                           $"VALUES ('bench', '{url}', '*', '{Secret}', true, false, now()) " +
                           "ON CONFLICT (name) DO UPDATE SET enabled = true, url = excluded.url, disabled_reason = NULL");

    private static async Task ExecuteAsync(NpgsqlConnection db, string sql)
    {
        await using var command = new NpgsqlCommand(sql, db);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Whether the service under test makes deliveries in a fan-out rather than in the writes.</summary>
    private static async Task<bool> FansOutAsync(NpgsqlConnection db)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass('outbox_fanout') IS NOT NULL", db);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Events written, and deliveries delivered and pending (counting an event not yet fanned out as pending).</summary>
    private async Task<(long Events, long Delivered, long Pending)> CountAsync(NpgsqlConnection db)
    {
        var notFannedOut = _fannedOut == true ? " + (SELECT COUNT(*) FROM outbox_events WHERE tx >= (SELECT below FROM outbox_fanout))" : "";
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT COUNT(*) FROM outbox_events), (SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'D'), " +
            $"(SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'P'){notFannedOut}", db);
        await using var r = await command.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2));
    }

    /// <summary>The report's section: every pair, and the median ratio per case against the goal.</summary>
    public string Markdown()
    {
        var md = new StringBuilder();
        md.AppendLine("## Points add and card use, no webhook subscriber and one");
        md.AppendLine();
        md.AppendLine("Each round runs each pair back to back, the order alternating; the subscriber (every event type) is the receiver process on loopback, answering 204 at once. Load average (1, 5, 15 min) read by the quiet check just before each case. Delivered: by the case's end, and in all once the backlog was sent (its time after the case).");
        md.AppendLine();
        md.AppendLine("| case | round | first | load before none | none req/s (p50 / p99 ms) | load before one | one req/s (p50 / p99 ms) | one ÷ none | events written with one | delivered by the end / in all | backlog sent in | abandoned |");
        md.AppendLine("|---|--:|---|---|--:|---|--:|--:|--:|---|--:|--:|");
        foreach (var pair in Sides.GroupBy(s => (s.Case, s.Round)))
        {
            var off = pair.Single(s => !s.On);
            var on = pair.Single(s => s.On);
            md.AppendLine(Inv, $"| {pair.Key.Case} | {pair.Key.Round} | {(pair.First().On ? "one" : "none")} | {off.LoadBefore} | {Side(off)} | {on.LoadBefore} | {Side(on)} | " +
                               $"{on.Result.Throughput / off.Result.Throughput:0.000} | {on.Events:N0} | {on.DeliveredByEnd:N0} / {on.Delivered:N0} | {on.DrainSeconds:0.0} s | {on.Abandoned:N0} |");
        }
        md.AppendLine();
        foreach (var name in Sides.Select(s => s.Case).Distinct())
        {
            var ratio = Ratio(name);
            md.AppendLine(Inv, $"- {name}: median one ÷ none {ratio:0.000} (goal ≥ 0.90) {(ratio >= 0.9 ? "✓" : "✗")}");
        }
        md.AppendLine();
        return md.ToString();

        static string Side(Side s) => string.Create(Inv, $"{s.Result.Throughput:N0} ({s.Result.P50Ms:0.00} / {s.Result.P99Ms:0.00})");
    }

    /// <summary>The median over the rounds of each round's one ÷ none.</summary>
    public double Ratio(string name)
    {
        var ratios = Sides.Where(s => s.Case == name).GroupBy(s => s.Round)
            .Select(g => g.Single(s => s.On).Result.Throughput / g.Single(s => !s.On).Result.Throughput).Order().ToArray();
        return ratios.Length == 0 ? double.NaN
            : ratios.Length % 2 == 1 ? ratios[ratios.Length / 2] : (ratios[ratios.Length / 2 - 1] + ratios[ratios.Length / 2]) / 2;
    }
}

/// <summary>The webhook receiver (tests/WebhookReceiver, built beside the benchmark) as a process on a free loopback port.</summary>
public sealed class ReceiverProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ReceiverProcess(Process process, Uri url) => (_process, Url) = (process, url);

    public Uri Url { get; }

    public static async Task<ReceiverProcess> StartAsync(BenchOptions options)
    {
        var port = ServiceProcess.FreePort();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "WebhookReceiver.dll"), "--port", port.ToString(CultureInfo.InvariantCulture)])
            start.ArgumentList.Add(a);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the webhook receiver");
        await File.AppendAllTextAsync(Path.Combine(options.Work, "pids"), $"{process.Id}\n");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var receiver = new ReceiverProcess(process, new Uri($"http://127.0.0.1:{port}/hooks/bench"));
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var answer = await probe.PostAsync(receiver.Url, new StringContent("{}"));
                if (answer.IsSuccessStatusCode)
                    return receiver;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                await receiver.DisposeAsync();
                throw new InvalidOperationException("the webhook receiver did not answer within 60 s");
            }
            await Task.Delay(200);
        }
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
