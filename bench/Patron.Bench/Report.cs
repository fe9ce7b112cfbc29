using System.Globalization;
using System.Text;

namespace Patron.Bench;

/// <summary>Read: the reads (/health and the two queries), which the chart leaves out.</summary>
public enum CaseKind { Pgbench, Postgres, Sqlite, Read }

/// <summary>A row of the report: a case's name, its label on the chart, and what it runs against.</summary>
public sealed record CaseInfo(string Key, string Title, string Label, CaseKind Kind);

/// <summary>A case over all its rounds: medians, except failures (summed) and peak RSS (the highest).</summary>
public sealed record CaseSummary(CaseInfo Info, IReadOnlyList<CaseResult> Rounds)
{
    public double Throughput => Median(r => r.Throughput);
    public double P50Ms => Median(r => r.P50Ms);
    public double P99Ms => Median(r => r.P99Ms);
    public long Failed => Rounds.Sum(r => r.Failed + r.WarmupFailed);
    public double? PeakRssMb => Rounds.Max(r => r.PeakRssMb);
    public double? ServiceCpuUs => Rounds.All(r => r.ServiceCpuUsPerRequest is null) ? null : Median(r => r.ServiceCpuUsPerRequest ?? double.NaN);
    public double? ServiceCpuPercent => Rounds.All(r => r.ServiceCpuPercent is null) ? null : Median(r => r.ServiceCpuPercent ?? double.NaN);
    public double? PostgresCpuUs => Rounds.All(r => r.PostgresCpuUsPerRequest is null) ? null : Median(r => r.PostgresCpuUsPerRequest ?? double.NaN);
    public double ClientCpuPercent => Median(r => r.ClientCpuPercent);
    public double MachineBusyPercent => Median(r => r.MachineBusyPercent);

    /// <summary>The write road's batches: their mean size, their transactions' mean time, and writers in a transaction on average.</summary>
    public bool Writes => Rounds.Any(r => r.Writes is not null);
    public double BatchSize => Median(r => r.Writes?.BatchSize ?? double.NaN);
    public double TransactionMs => Median(r => r.Writes?.TransactionMs ?? double.NaN);
    public double WritersBusy => Median(r => r.Writes is { } w && r.Succeeded > 0 ? w.TransactionSeconds * r.Throughput / r.Succeeded : double.NaN);

    /// <summary>The service's collector: KB allocated and collections per request, and the share of the time it paused the service.</summary>
    public bool Heap => Rounds.Any(r => r.Heap is not null && r.Succeeded > 0);
    public double AllocatedKb => Median(r => r.Heap is { } h && r.Succeeded > 0 ? h.AllocatedBytes / r.Succeeded / 1024 : double.NaN);
    public double CollectionsPerThousand => Median(r => r.Heap is { } h && r.Succeeded > 0 ? h.Collections / r.Succeeded * 1000 : double.NaN);
    public double PausePercent => Median(r => r.Heap is { } h && r.Succeeded > 0 ? 100 * h.PauseSeconds * r.Throughput / r.Succeeded : double.NaN);

    /// <summary>All the machine's CPU time (every process) per request or transaction, in µs.</summary>
    public double MachineCpuUs(int cores) => Median(r => r.Throughput > 0 ? r.MachineBusyPercent / 100 * cores / r.Throughput * 1e6 : double.NaN);

    private double Median(Func<CaseResult, double> value)
    {
        var sorted = Rounds.Select(value).Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0)
            return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>Writes bench/results/latest.md and the data and script inputs of latest.png.</summary>
public sealed class Report(BenchOptions options, MachineInfo machine, SetupInfo? setup, IReadOnlyList<CaseInfo> cases, IReadOnlyList<CaseResult> results)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private readonly List<CaseSummary> _summaries = [.. cases
        .Select(c => new CaseSummary(c, [.. results.Where(r => r.Key == c.Key)]))
        .Where(s => s.Rounds.Count > 0)];

    private CaseSummary? Find(string key) => _summaries.FirstOrDefault(s => s.Info.Key == key);

    /// <summary>Each round's limit (its best pgbench case) and the ratios against it.</summary>
    public RoundRatios Ratios { get; } = new(results, Pgbench.Cases.Select(c => c.Key));

    public string Markdown(bool complete, string? problem)
    {
        var md = new StringBuilder();
        md.AppendLine(Inv, $"# Patron benchmark, {machine.Date:yyyy-MM-dd HH:mm zzz}");
        md.AppendLine();
        if (!complete)
            md.AppendLine(Inv, $"**Incomplete run**: {problem ?? "stopped early"}. The numbers below are what was measured before that.\n");
        md.AppendLine(Inv, $"- Machine: {machine.Cores} cores ({machine.CpuModel}), {machine.RamGiB:0.0} GiB RAM, Linux {machine.Kernel}; load average at start {machine.LoadAtStart}, at end {MachineInfo.LoadAverage()}");
        md.AppendLine(Inv, $"- .NET: {machine.DotNet}; service: commit {machine.Commit}, Release build, run as `dotnet Patron.dll`{(options.ServiceEnv.Count > 0 ? $" with {string.Join(", ", options.ServiceEnv.Select(e => $"{e.Key}={e.Value}"))}" : "")}");
        md.AppendLine(Inv, $"- PostgreSQL: {machine.PostgresVersion}; {machine.PostgresSettings} (bench/postgresql.conf, pgbench's and the service's alike); data on {machine.WorkFilesystem}");
        md.AppendLine(Inv, $"- Load: {options.Connections} and {options.Many} connections (keys ending in -{options.Many}), {(options.Rate > 0 ? $"{options.Rate:N0} requests/s offered (closed loop past that)" : "closed loop")}, {options.Warmup} s warm-up then {options.Duration} s per case, {options.Rounds} round(s), pgbench's cases spread among the service's in each round; {options.Members:N0} members; client: {(options.Client == "raw" ? "raw HTTP/1.1 over sockets" : "HttpClient")}");
        md.AppendLine(Inv, $"- Quiet check before every case: under {options.QuietCpu} % of the machine busy over {options.QuietWindow} s, waiting up to {options.QuietWait} s (see the last section), after a PostgreSQL checkpoint; a gigabyte of log written first, so that its segments are recycled, not zero-filled mid-case, as on a server that has been up a while");
        if (setup is not null)
            md.AppendLine(Inv, $"- Set-up: service start-up with the catalog ({options.Members:N0} members) {setup.PostgresStartup.TotalSeconds:0.0} s on PostgreSQL, {setup.SqliteStartup.TotalSeconds:0.0} s on SQLite; {setup.Cards:N0} cards sold for the card-use case in {setup.CardsSold.TotalSeconds:0.0} s");
        if (Million is { } m)
            md.AppendLine(Inv, $"- Million-member cases: a database of their own, {m.Members:N0} members loaded by `--import` in {m.Import.TotalSeconds:0.0} s (`{m.ImportSummary}`), service start-up {m.Startup.TotalSeconds:0.0} s; {m.Cards:N0} cards sold, one each to members spread over the million, in {m.CardsSold.TotalSeconds:0.0} s");
        md.AppendLine();
        var limits = Ratios.Rounds.Select(r => (Round: r, Best: Ratios.Limit(r))).Where(x => x.Best is not null).ToList();
        if (limits.Count > 0)
        {
            md.AppendLine(string.Create(Inv, $"**Per-transaction limit, median {Ratios.MedianLimit():N0} tps**: the best pgbench case of each round (durable commits per second of a points add's minimal transaction, straight to PostgreSQL), ") +
                          string.Join("; ", limits.Select(x => string.Create(Inv, $"round {x.Round} {x.Best!.Throughput:N0} ({x.Best.Key})"))) + ". Every × limit below is against the limit of the same round.");
            md.AppendLine();
        }
        if (_summaries.Count == 0)
            return md.Append(Goals.Markdown(options, Ratios, _summaries)).Append(Quiet?.Markdown()).ToString();
        md.AppendLine("| case | req/s | × limit | p50 ms | p99 ms | failed | peak RSS MB |");
        md.AppendLine("|---|--:|--:|--:|--:|--:|--:|");
        foreach (var s in _summaries)
            md.AppendLine(Inv, $"| {s.Info.Title} | {s.Throughput:N0} | {Goals.Ratio(Ratios.VsLimit(s.Info.Key))} | {Goals.Ms(s.P50Ms)} | {Goals.Ms(s.P99Ms)} | {s.Failed} | {(s.PeakRssMb is { } rss ? rss.ToString("0", Inv) : "—")} |");
        md.AppendLine();
        md.AppendLine("req/s, p50 and p99: the median of the rounds; × limit: the median of the rounds' req/s ÷ that round's limit; failed: all rounds, warm-ups included (an HTTP error, or an envelope whose `errcode`/`code` is not 0); peak RSS: the highest VmHWM of the service process in any round (reset at the start of each case).");
        md.AppendLine();

        md.Append(Goals.Markdown(options, Ratios, _summaries));

        Table(md, "Where the CPU went (medians)",
            "service CPU µs/request | service CPU % | PostgreSQL CPU µs/request | load generator CPU % | machine busy % | machine CPU µs/request | service log warnings / errors",
            _summaries, s => string.Create(Inv, $"{Num(s.ServiceCpuUs, "0")} | {Num(s.ServiceCpuPercent, "0")} | {Num(s.PostgresCpuUs, "0")} | {Num(s.ClientCpuPercent, "0")} | {Num(s.MachineBusyPercent, "0")} | {Num(s.MachineCpuUs(machine.Cores), "0")} | {s.Rounds.Sum(r => r.LogWarnings)} / {s.Rounds.Sum(r => r.LogErrors)}"),
            string.Create(Inv, $"CPU % is of one core ({machine.Cores} cores = {machine.Cores * 100} %); PostgreSQL's CPU is its processes' own time (the postmaster and its children, live or exited, as /proc/PID/stat counts it), pgbench's cases included; machine busy is all processes, this benchmark's and anyone else's, from /proc/stat. The load generator runs on the same cores as the service; pgbench's own CPU is part of machine busy. Machine CPU per request is everything the machine spent (service, load generator or pgbench, PostgreSQL, kernel) divided by the requests or transactions done; with every core busy, no case can go faster than {machine.Cores} × 10⁶ ÷ that figure per second."));
        Table(md, "The write road (medians)", "requests a batch | transaction ms | writers in a transaction | request p50 ms",
            _summaries.Where(s => s.Writes),
            s => string.Create(Inv, $"{Num(s.BatchSize, "0.0")} | {Num(s.TransactionMs, "0.00")} | {Num(s.WritersBusy, "0.00")} | {Goals.Ms(s.P50Ms)}"),
            "From the service's `/metrics` before and after each measurement (`patron.writes.batch_size` and `patron.writes.commit_duration`, every kind of write): the requests a committed batch carried, the time of its transaction (read under lock, decide, write, commit), and how many writer loops were inside a transaction on average. A request's time beyond its batch's transaction is its way to the queue, its wait for a writer, and its answer.");
        Table(md, "The service's collector (medians)", "KB allocated a request | collections a 1,000 requests | paused, % of the time",
            _summaries.Where(s => s.Heap),
            s => string.Create(Inv, $"{Num(s.AllocatedKb, "0.0")} | {Num(s.CollectionsPerThousand, "0.00")} | {Num(s.PausePercent, "0.0")}"),
            "From the runtime's own instruments on the service's `/metrics` (meter `System.Runtime`: `dotnet.gc.heap.total_allocated`, `dotnet.gc.collections` of every generation, `dotnet.gc.pause.time`) before and after each measurement, per request answered.");
        if (Expiry is { Sides.Count: > 0 } expiry)
            md.Append(expiry.Markdown());
        if (Webhooks is { Sides.Count: > 0 } webhooks)
            md.Append(webhooks.Markdown());
        if (Quiet is { Samples.Count: > 0 } quiet)
            md.Append(quiet.Markdown());

        md.AppendLine("## Each round");
        md.AppendLine();
        var rounds = results.Select(r => r.Round).Distinct().Order().ToList();
        md.AppendLine("| case | " + string.Join(" | ", rounds.Select(r => $"round {r} req/s (p99 ms) × limit")) + " |");
        md.AppendLine("|---|" + string.Concat(rounds.Select(_ => "--:|")));
        md.AppendLine("| **the round's limit** (best pgbench) | " + string.Join(" | ", rounds.Select(r =>
            Ratios.Limit(r) is { } l ? string.Create(Inv, $"{l.Throughput:N0} ({l.Key})") : "—")) + " |");
        foreach (var s in _summaries)
            md.AppendLine($"| {s.Info.Title} | " + string.Join(" | ", rounds.Select(r =>
                s.Rounds.FirstOrDefault(x => x.Round == r) is { } x
                    ? $"{x.Throughput.ToString("N0", Inv)} ({Goals.Ms(x.P99Ms)}) {(Ratios.LimitTps(r) is { } l and > 0 ? Goals.Ratio(x.Throughput / l) : "")}"
                    : "—")) + " |");
        md.AppendLine();

        var failures = _summaries.Where(s => s.Rounds.Any(r => r.Failures.Count > 0)).ToList();
        if (failures.Count > 0 || ServiceErrors.Count > 0)
        {
            md.AppendLine("## Failures and service errors, exactly as answered or logged");
            md.AppendLine();
            foreach (var s in failures)
            {
                var merged = s.Rounds.SelectMany(r => r.Failures).GroupBy(f => f.Key).Select(g => (g.Key, Count: g.Sum(f => f.Value))).OrderByDescending(f => f.Count);
                foreach (var (message, count) in merged)
                    md.AppendLine(Inv, $"- {s.Info.Title}: {count} × `{message.Replace('`', '\'').ReplaceLineEndings(" ")}`");
            }
            foreach (var line in ServiceErrors)
                md.AppendLine(Inv, $"- service log: `{line.Replace('`', '\'')}`");
            md.AppendLine();
        }
        md.AppendLine("Made by `bench/run` (see bench/README.md); the chart is `latest.png` beside this file.");
        return md.ToString();
    }

    /// <summary>How the million-member cases were set up; null when none ran.</summary>
    public MillionSetup? Million { get; init; }

    /// <summary>Points add with points.expiry off and on; null or empty when not run.</summary>
    public ExpiryPairs? Expiry { get; init; }

    /// <summary>Points add and card use with no webhook subscriber and one; null or empty when not run.</summary>
    public WebhookPairs? Webhooks { get; init; }

    /// <summary>What the quiet check saw before each case.</summary>
    public QuietCheck? Quiet { get; init; }

    /// <summary>The first error lines of the services' logs, quoted under Failures.</summary>
    public List<string> ServiceErrors { get; } = [];

    /// <summary>A section of one row per case (none when no case has the figures): the columns after the case's, each row's cells, what they are.</summary>
    private static void Table(StringBuilder md, string title, string columns, IEnumerable<CaseSummary> cases, Func<CaseSummary, string> cells, string note)
    {
        var rows = cases.ToList();
        if (rows.Count == 0)
            return;
        md.AppendLine($"## {title}").AppendLine();
        md.AppendLine($"| case | {columns} |");
        md.AppendLine("|---|" + string.Concat(Enumerable.Repeat("--:|", columns.Split(" | ").Length)));
        foreach (var s in rows)
            md.AppendLine($"| {s.Info.Title} | {cells(s)} |");
        md.AppendLine().AppendLine(note).AppendLine();
    }

    private static string Num(double? v, string format) => v is { } x && !double.IsNaN(x) ? x.ToString(format, Inv) : "—";

    /// <summary>The chart's data: one row per case but the reads, tab-separated, for bench/chart.gp.</summary>
    public string ChartData()
    {
        var data = new StringBuilder("# label\treq/s\tp99 ms\tpeak RSS MB\tcolour\tgoal req/s\t× limit (median of the rounds' ratios)\n");
        var l = Ratios.MedianLimit();
        foreach (var s in _summaries.Where(s => s.Info.Kind != CaseKind.Read))
        {
            var key = s.Info.Key;
            var goal = Goals.ChartGoal(key, options) is { } ratio ? ratio * l
                : key.StartsWith("points-hot", StringComparison.Ordinal) ? 0.8 * (Find(key.Replace("points-hot", "points-random", StringComparison.Ordinal))?.Throughput ?? double.NaN)
                : double.NaN;
            var colour = s.Info.Kind switch { CaseKind.Pgbench => 1, CaseKind.Postgres => 2, _ => 3 };
            data.AppendLine(Inv, $"\"{s.Info.Label}\"\t{s.Throughput:0.0}\t{s.P99Ms:0.00}\t{(s.PeakRssMb is { } rss ? rss.ToString("0.0", Inv) : "NaN")}\t{colour}\t{goal:0.0}\t{Ratios.VsLimit(key):0.00}");
        }
        return data.ToString();
    }

    /// <summary>gnuplot's -e settings for bench/chart.gp.</summary>
    public string ChartSettings(string dataFile, string pngFile)
    {
        var chartable = _summaries.Where(s => s.Info.Kind != CaseKind.Read).ToList();
        var l = Ratios.MedianLimit() is var median && !double.IsNaN(median) ? median : 0;
        var top = new[] { l * 2 }.Concat(chartable.Select(s => s.Throughput)).Where(v => !double.IsNaN(v)).DefaultIfEmpty(1).Max();
        var p99 = chartable.Select(s => s.P99Ms).Where(v => !double.IsNaN(v)).Append(Goals.MaxP99Ms).Max();
        var rss = chartable.Select(s => s.PeakRssMb ?? 0).Append(Goals.MaxRssMb).Max();
        var ceiling = Find("health") is { } h ? $"; GET /health {h.Throughput:N0} req/s" : "";
        var heading = $"Patron, {machine.Date:yyyy-MM-dd}, {machine.Cores} cores; medians of {options.Rounds} round(s), {options.Connections} and {options.Many} connections{ceiling}";
        return string.Join("; ",
            $"data='{dataFile}'", $"out='{pngFile}'", $"limit={l.ToString("0.0", Inv)}",
            $"ymax={(top * 1.15).ToString("0", Inv)}", $"p99max={(p99 * 2).ToString("0.0", Inv)}", $"rssmax={(rss * 1.15).ToString("0", Inv)}",
            $"heading='{heading.Replace("'", "", StringComparison.Ordinal)}'");
    }
}
