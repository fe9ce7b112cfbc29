using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Patron.Bench;

/// <summary>
/// Points add and card use on PostgreSQL with no webhook subscriber and with one (issue #24 asks
/// for one subscriber within 10 % of the figures before the outbox). Every write puts its events in
/// the outbox either way; with a subscriber the dispatcher also sends each event to the receiver
/// process (tests/WebhookReceiver, answering 204 at once, writing nothing down), on the same cores.
/// With <c>--baseline</c>, the same case on an earlier build (its own service and database) runs
/// beside them, so that "before" is measured in the same round. Each round runs each case's sides
/// back to back, the order reversed from one round to the next. The subscriber is a row in the
/// service's <c>webhooks</c> table, enabled or disabled before each case, and disabled after each
/// round's pair: the other cases run with none (a subscriber left behind got every event of the
/// hot member's case, a backlog that kept the machine busy into the next). After each case the
/// benchmark waits (up to <see cref="DrainLimit"/>) until the dispatcher has made the deliveries of
/// every event (it makes them from the outbox, and for a disabled subscriber none) and sent them,
/// so that the next case neither pays for this one's backlog nor sends its events; what is still
/// pending then is marked failed and counted in the report.
/// </summary>
public sealed class WebhookPairs
{
    public const string Key = "webhooks";

    /// <summary>The secret is stored as written: the service reads secrets stored before they were encrypted at rest.</summary>
    private const string Secret = "whsec_YmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtYmVuY2g=";

    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(120);
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>A case's sides: this build with no subscriber and with one, and the baseline build.</summary>
    public enum Hook { None, One, Baseline }

    /// <summary>
    /// One side of a case: the load average before it, the events it wrote (warm-up included), the
    /// deliveries made (rows) and sent by its end, those sent after it, how long the rest took, and
    /// what was left.
    /// </summary>
    public sealed record Side(string Case, int Round, Hook Hook, string LoadBefore, long Events, long MadeByEnd, long DeliveredByEnd, long Delivered,
        double DrainSeconds, long Abandoned, CaseResult Result);

    /// <summary>The baseline build's side of a case: how to run it, and how to reach its service.</summary>
    public sealed record Baseline(LoadCase Case, Func<ILoadConnection> Connect);

    public List<Side> Sides { get; } = [];

    /// <summary>The baseline build's commit, for the report; null when none ran.</summary>
    public string? BaselineCommit { get; set; }

    private bool? _fannedOut;

    public static string OffKey(string key) => $"{key}-hook-off";

    public static string OnKey(string key) => $"{key}-hook-on";

    public static string BaselineKey(string key) => $"{key}-baseline";

    /// <summary>
    /// Runs one round of <paramref name="name"/>: the baseline (when given), no subscriber, one
    /// subscriber in odd rounds; the other way round in even ones.
    /// </summary>
    public async Task<List<CaseResult>> RunRoundAsync(string name, Func<bool, LoadCase> caseFor, Func<ILoadConnection> connect, Baseline? baseline,
        BenchOptions options, QuietCheck quiet, Uri receiver, int round, Action<string> say)
    {
        var results = new List<CaseResult>();
        Hook[] order = baseline is null ? [Hook.None, Hook.One] : [Hook.Baseline, Hook.None, Hook.One];
        foreach (var hook in round % 2 == 1 ? order : order.Reverse())
        {
            var side = hook == Hook.Baseline
                ? await RunBaselineAsync(name, baseline!, options, quiet, round, say)
                : await RunSideAsync(name, hook == Hook.One, caseFor, connect, options, quiet, receiver, round, say);
            Sides.Add(side);
            results.Add(side.Result);
        }
        await using var db = new NpgsqlConnection(options.PgConnection("patron"));
        await db.OpenAsync();
        await SubscribeAsync(db, null);
        return results;
    }

    /// <summary>The earlier build knows no outbox: its side is the load alone.</summary>
    private static async Task<Side> RunBaselineAsync(string name, Baseline baseline, BenchOptions options, QuietCheck quiet, int round, Action<string> say)
    {
        var load = (await quiet.WaitAsync(baseline.Case.Key, round)).LoadAverage;
        say($"round {round}/{options.Rounds}  {name}, baseline build: load average {load}");
        var r = await LoadRunner.RunAsync(baseline.Case, baseline.Connect, options.Connections, TimeSpan.FromSeconds(options.Warmup),
            TimeSpan.FromSeconds(options.Duration), round, options.Rate);
        return new Side(name, round, Hook.Baseline, load, 0, 0, 0, 0, 0, 0, r);
    }

    private async Task<Side> RunSideAsync(string name, bool on, Func<bool, LoadCase> caseFor, Func<ILoadConnection> connect,
        BenchOptions options, QuietCheck quiet, Uri receiver, int round, Action<string> say)
    {
        await using var db = new NpgsqlConnection(options.PgConnection("patron"));
        await db.OpenAsync();
        _fannedOut ??= await FansOutAsync(db);
        await SubscribeAsync(db, on ? receiver : null);
        var (events, made, delivered, _) = await CountAsync(db);
        var load = (await quiet.WaitAsync(caseFor(on).Key, round)).LoadAverage;
        say($"round {round}/{options.Rounds}  {name}, {(on ? "one subscriber" : "no subscriber")}: load average {load}");
        var r = await LoadRunner.RunAsync(caseFor(on), connect, options.Connections, TimeSpan.FromSeconds(options.Warmup),
            TimeSpan.FromSeconds(options.Duration), round, options.Rate);
        var (eventsAfter, madeByEnd, deliveredByEnd, _) = await CountAsync(db);
        var drain = Stopwatch.StartNew();
        var (_, _, deliveredAfter, pending) = await CountAsync(db);
        while (pending > 0 && drain.Elapsed < DrainLimit)
        {
            await Task.Delay(250);
            (_, _, deliveredAfter, pending) = await CountAsync(db);
        }
        if (pending > 0)
            await ExecuteAsync(db, "UPDATE webhook_deliveries SET state = 'F', last_error = 'abandoned by the benchmark' WHERE state = 'P'");
        if (on)
            say($"    {madeByEnd - made:N0} deliveries made and {deliveredByEnd - delivered:N0} sent of {eventsAfter - events:N0} events by the case's end, the rest in {drain.Elapsed.TotalSeconds:0.0} s" +
                (pending > 0 ? $"; {pending:N0} still pending after {DrainLimit.TotalSeconds:0} s, abandoned" : ""));
        return new Side(name, round, on ? Hook.One : Hook.None, load, eventsAfter - events, madeByEnd - made, deliveredByEnd - delivered, deliveredAfter - delivered,
            drain.Elapsed.TotalSeconds, pending, r);
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

    /// <summary>Events written, and deliveries made (rows), delivered and pending (counting an event not yet fanned out as pending).</summary>
    private async Task<(long Events, long Made, long Delivered, long Pending)> CountAsync(NpgsqlConnection db)
    {
        var notFannedOut = _fannedOut == true ? " + (SELECT COUNT(*) FROM outbox_events WHERE tx >= (SELECT below FROM outbox_fanout))" : "";
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT COUNT(*) FROM outbox_events), (SELECT COUNT(*) FROM webhook_deliveries), (SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'D'), " +
            $"(SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'P'){notFannedOut}", db);
        await using var r = await command.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3));
    }

    /// <summary>The report's section: every round of each case, and the median ratios per case against the goal.</summary>
    public string Markdown()
    {
        var md = new StringBuilder();
        var withBaseline = Sides.Any(s => s.Hook == Hook.Baseline);
        md.AppendLine("## Points add and card use, no webhook subscriber and one");
        md.AppendLine();
        md.AppendLine("Each round runs each case's sides back to back, the order reversed from round to round; the subscriber (every event type) is the receiver process on loopback, answering 204 at once. Load average (1, 5, 15 min) read by the quiet check just before each side. Deliveries made (their rows) and sent by the case's end, and sent in all once the backlog was (its time after the case)." +
                      (withBaseline ? string.Create(Inv, $" Baseline: the same case on build {BaselineCommit}, a service and database of its own, no outbox.") : ""));
        md.AppendLine();
        md.AppendLine("| case | round | first | load before none | none req/s (p50 / p99 ms) | load before one | one req/s (p50 / p99 ms) | one ÷ none | " +
                      (withBaseline ? "load before baseline | baseline req/s (p50 / p99 ms) | none ÷ baseline | one ÷ baseline | " : "") +
                      "events written with one | made / sent by the end / sent in all | backlog sent in | abandoned |");
        md.AppendLine("|---|--:|---|---|--:|---|--:|--:|" + (withBaseline ? "---|--:|--:|--:|" : "") + "--:|---|--:|--:|");
        foreach (var round in Sides.GroupBy(s => (s.Case, s.Round)))
        {
            var off = round.Single(s => s.Hook == Hook.None);
            var on = round.Single(s => s.Hook == Hook.One);
            var before = round.SingleOrDefault(s => s.Hook == Hook.Baseline);
            var baselineColumns = before is null ? ""
                : string.Create(Inv, $"{before.LoadBefore} | {Side(before)} | {off.Result.Throughput / before.Result.Throughput:0.000} | {on.Result.Throughput / before.Result.Throughput:0.000} | ");
            md.AppendLine(Inv, $"| {round.Key.Case} | {round.Key.Round} | {round.First().Hook.ToString().ToLowerInvariant()} | {off.LoadBefore} | {Side(off)} | {on.LoadBefore} | {Side(on)} | " +
                               $"{on.Result.Throughput / off.Result.Throughput:0.000} | {baselineColumns}{on.Events:N0} | {on.MadeByEnd:N0} / {on.DeliveredByEnd:N0} / {on.Delivered:N0} | {on.DrainSeconds:0.0} s | {on.Abandoned:N0} |");
        }
        md.AppendLine();
        foreach (var name in Sides.Select(s => s.Case).Distinct())
        {
            var line = string.Create(Inv, $"- {name}: median one ÷ none {Ratio(name, Hook.One, Hook.None):0.000}");
            if (withBaseline)
            {
                var ratio = Ratio(name, Hook.One, Hook.Baseline);
                line += string.Create(Inv, $"; none ÷ baseline {Ratio(name, Hook.None, Hook.Baseline):0.000}; **one ÷ baseline {ratio:0.000}** (goal ≥ 0.90) {(ratio >= 0.9 ? "✓" : "✗")}");
                if (Interval(name, Hook.One, Hook.Baseline) is { } one && Interval(name, Hook.None, Hook.Baseline) is { } none)
                    line += string.Create(Inv, $"; over the rounds, geometric means with 95 % intervals: one ÷ baseline {one.Mean:0.000} ({one.Low:0.000}–{one.High:0.000}), " +
                                               $"none ÷ baseline {none.Mean:0.000} ({none.Low:0.000}–{none.High:0.000})");
            }
            md.AppendLine(line);
        }
        md.AppendLine();
        return md.ToString();

        static string Side(Side s) => string.Create(Inv, $"{s.Result.Throughput:N0} ({s.Result.P50Ms:0.00} / {s.Result.P99Ms:0.00})");
    }

    /// <summary>The median over the rounds of each round's <paramref name="side"/> ÷ <paramref name="against"/>.</summary>
    public double Ratio(string name, Hook side, Hook against) => RoundRatios.Median(Ratios(name, side, against));

    /// <summary>
    /// The geometric mean of the rounds' ratios and its 95 % interval (Student's t on their
    /// logarithms), from three rounds up. Two sides of one build differ by up to a tenth in a single
    /// round on this machine, so a verdict against a 10 % goal needs to say how sure it is.
    /// </summary>
    public (double Mean, double Low, double High)? Interval(string name, Hook side, Hook against)
    {
        var logs = Ratios(name, side, against).Where(r => r > 0 && double.IsFinite(r)).Select(r => Math.Log(r)).ToArray();
        if (logs.Length < 3)
            return null;
        var mean = logs.Average();
        var sd = Math.Sqrt(logs.Sum(x => (x - mean) * (x - mean)) / (logs.Length - 1));
        var half = StudentT975(logs.Length - 1) * sd / Math.Sqrt(logs.Length);
        return (Math.Exp(mean), Math.Exp(mean - half), Math.Exp(mean + half));
    }

    private double[] Ratios(string name, Hook side, Hook against) => [.. Sides.Where(s => s.Case == name).GroupBy(s => s.Round)
        .Where(g => g.Any(s => s.Hook == side) && g.Any(s => s.Hook == against))
        .Select(g => g.Single(s => s.Hook == side).Result.Throughput / g.Single(s => s.Hook == against).Result.Throughput)];

    /// <summary>
    /// Student's t, two-sided 95 %, exact for 2 to 15 degrees of freedom; past them, the value at
    /// each band's fewest (16, 21, 31), so that the interval errs wide rather than narrow.
    /// </summary>
    private static double StudentT975(int df) => df switch
    {
        2 => 4.303, 3 => 3.182, 4 => 2.776, 5 => 2.571, 6 => 2.447, 7 => 2.365, 8 => 2.306, 9 => 2.262, 10 => 2.228,
        11 => 2.201, 12 => 2.179, 13 => 2.160, 14 => 2.145, 15 => 2.131, <= 20 => 2.120, <= 30 => 2.080, _ => 2.040,
    };
}
