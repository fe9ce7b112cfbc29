using System.Globalization;
using System.Text;

namespace Patron.Bench;

public enum CaseKind { Pgbench, Postgres, Sqlite, Ceiling }

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
    public double ClientCpuPercent => Median(r => r.ClientCpuPercent);
    public double MachineBusyPercent => Median(r => r.MachineBusyPercent);

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

    /// <summary>The best pgbench median: the most durable points-add transactions per second this machine does.</summary>
    public CaseSummary? Limit => _summaries.Where(s => s.Info.Kind == CaseKind.Pgbench).MaxBy(s => s.Throughput);

    public string Markdown(bool complete, string? problem)
    {
        var md = new StringBuilder();
        var limit = Limit;
        var l = limit?.Throughput ?? double.NaN;
        md.AppendLine(Inv, $"# Patron benchmark, {machine.Date:yyyy-MM-dd HH:mm zzz}");
        md.AppendLine();
        if (!complete)
            md.AppendLine(Inv, $"**Incomplete run**: {problem ?? "stopped early"}. The numbers below are what was measured before that.\n");
        md.AppendLine(Inv, $"- Machine: {machine.Cores} cores ({machine.CpuModel}), {machine.RamGiB:0.0} GiB RAM, Linux {machine.Kernel}; load average at start {machine.LoadAtStart}, at end {MachineInfo.LoadAverage()}");
        md.AppendLine(Inv, $"- .NET: {machine.DotNet}; service: commit {machine.Commit}, Release build, run as `dotnet Patron.dll`");
        md.AppendLine(Inv, $"- PostgreSQL: {machine.PostgresVersion}; {machine.PostgresSettings} (bench/postgresql.conf); data on {machine.WorkFilesystem}");
        md.AppendLine(Inv, $"- Load: {options.Connections} connections, closed loop, {options.Warmup} s warm-up then {options.Duration} s per case, {options.Rounds} round(s) of all cases interleaved; {options.Members:N0} members; client: {(options.Client == "raw" ? "raw HTTP/1.1 over sockets" : "HttpClient")}");
        if (setup is not null)
            md.AppendLine(Inv, $"- Set-up: service start-up with the catalog ({options.Members:N0} members) {setup.PostgresStartup.TotalSeconds:0.0} s on PostgreSQL, {setup.SqliteStartup.TotalSeconds:0.0} s on SQLite; {setup.Cards:N0} cards sold for the card-use case in {setup.CardsSold.TotalSeconds:0.0} s");
        if (Million is { } m)
            md.AppendLine(Inv, $"- Million-member cases: a database of their own, {m.Members:N0} members loaded by `--import` in {m.Import.TotalSeconds:0.0} s (`{m.ImportSummary}`), service start-up {m.Startup.TotalSeconds:0.0} s; {m.Cards:N0} cards sold, one each to members spread over the million, in {m.CardsSold.TotalSeconds:0.0} s");
        md.AppendLine();
        if (limit is not null)
            md.AppendLine(Inv, $"**Per-transaction limit: {l:N0} tps** ({limit.Info.Title}): durable commits per second of a points add's minimal transaction, straight to PostgreSQL.");
        md.AppendLine();
        md.AppendLine("| case | req/s | × limit | p50 ms | p99 ms | failed | peak RSS MB |");
        md.AppendLine("|---|--:|--:|--:|--:|--:|--:|");
        foreach (var s in _summaries)
            md.AppendLine(Inv, $"| {s.Info.Title} | {s.Throughput:N0} | {Ratio(s.Throughput / l)} | {Ms(s.P50Ms)} | {Ms(s.P99Ms)} | {s.Failed} | {(s.PeakRssMb is { } rss ? rss.ToString("0", Inv) : "—")} |");
        md.AppendLine();
        md.AppendLine("req/s, p50 and p99: the median of the rounds; failed: all rounds, warm-ups included (an HTTP error, or an envelope whose `errcode`/`code` is not 0); peak RSS: the highest VmHWM of the service process in any round (reset at the start of each case).");
        md.AppendLine();

        md.AppendLine("## Goals");
        md.AppendLine();
        md.AppendLine("| goal | target | measured | met |");
        md.AppendLine("|---|---|--:|:-:|");
        Goal(md, "points add, random members", "≥ 1.5 × limit", Find("points-random")?.Throughput / l, 1.5);
        Goal(md, "points add, one hot member", "≥ 0.8 × random members", Find("points-hot")?.Throughput / Find("points-random")?.Throughput, 0.8);
        Goal(md, "card use, random cards", "≥ 1.2 × limit", Find("card-use")?.Throughput / l, 1.2);
        Goal(md, "card sale", "≥ 0.8 × limit", Find("card-sale")?.Throughput / l, 0.8);
        Goal(md, "points add on SQLite", "≥ 1.0 × limit", Find("sqlite-points")?.Throughput / l, 1.0);
        var service = _summaries.Where(s => s.Info.Kind != CaseKind.Pgbench).ToList();
        if (service.Count > 0)
        {
            var worstP99 = service.MaxBy(s => s.P99Ms)!;
            md.AppendLine(Inv, $"| p99 latency, every service case | ≤ 25 ms | {Ms(worstP99.P99Ms)} ms ({worstP99.Info.Title}) | {Mark(worstP99.P99Ms <= 25)} |");
            var worstRss = service.MaxBy(s => s.PeakRssMb ?? 0)!;
            md.AppendLine(Inv, $"| peak RSS of the service | ≤ 300 MB | {worstRss.PeakRssMb:0} MB ({worstRss.Info.Title}) | {Mark(worstRss.PeakRssMb <= 300)} |");
            var failed = service.Sum(s => s.Failed);
            md.AppendLine(Inv, $"| failed requests | 0 | {failed} | {Mark(failed == 0)} |");
        }
        md.AppendLine();

        md.AppendLine("## Where the CPU went (medians)");
        md.AppendLine();
        md.AppendLine("| case | service CPU µs/request | service CPU % | load generator CPU % | machine busy % | machine CPU µs/request | service log warnings / errors |");
        md.AppendLine("|---|--:|--:|--:|--:|--:|--:|");
        foreach (var s in _summaries)
            md.AppendLine(Inv, $"| {s.Info.Title} | {Num(s.ServiceCpuUs, "0")} | {Num(s.ServiceCpuPercent, "0")} | {Num(s.ClientCpuPercent, "0")} | {Num(s.MachineBusyPercent, "0")} | {Num(s.MachineCpuUs(machine.Cores), "0")} | {s.Rounds.Sum(r => r.LogWarnings)} / {s.Rounds.Sum(r => r.LogErrors)} |");
        md.AppendLine();
        md.AppendLine(Inv, $"CPU % is of one core ({machine.Cores} cores = {machine.Cores * 100} %); machine busy is all processes, this benchmark's and anyone else's. The load generator runs on the same cores as the service; pgbench's own CPU is part of machine busy. Machine CPU per request is everything the machine spent (service, load generator or pgbench, PostgreSQL, kernel) divided by the requests or transactions done; with every core busy, no case can go faster than {machine.Cores} × 10⁶ ÷ that figure per second.");
        md.AppendLine();

        if (Expiry is { Sides.Count: > 0 } expiry)
            md.Append(expiry.Markdown());
        if (Webhooks is { Sides.Count: > 0 } webhooks)
            md.Append(webhooks.Markdown());

        md.AppendLine("## Each round");
        md.AppendLine();
        var rounds = results.Select(r => r.Round).Distinct().Order().ToList();
        md.AppendLine("| case | " + string.Join(" | ", rounds.Select(r => $"round {r} req/s (p99 ms)")) + " |");
        md.AppendLine("|---|" + string.Concat(rounds.Select(_ => "--:|")));
        foreach (var s in _summaries)
            md.AppendLine($"| {s.Info.Title} | " + string.Join(" | ", rounds.Select(r =>
                s.Rounds.FirstOrDefault(x => x.Round == r) is { } x ? $"{x.Throughput.ToString("N0", Inv)} ({Ms(x.P99Ms)})" : "—")) + " |");
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

    /// <summary>The first error lines of the services' logs, quoted under Failures.</summary>
    public List<string> ServiceErrors { get; } = [];

    private static void Goal(StringBuilder md, string what, string target, double? ratio, double needed) =>
        md.AppendLine(Inv, $"| {what} | {target} | {(ratio is { } r && !double.IsNaN(r) ? Ratio(r) : "not run")} | {(ratio is { } x && !double.IsNaN(x) ? Mark(x >= needed) : "")} |");

    private static string Mark(bool met) => met ? "✓" : "✗";

    private static string Ratio(double r) => double.IsNaN(r) ? "—" : r.ToString("0.00", Inv) + "×";

    private static string Ms(double ms) => double.IsNaN(ms) ? "—" : ms < 10 ? ms.ToString("0.00", Inv) : ms.ToString("0.0", Inv);

    private static string Num(double? v, string format) => v is { } x && !double.IsNaN(x) ? x.ToString(format, Inv) : "—";

    /// <summary>The chart's data: one row per case but the HTTP ceiling, tab-separated, for bench/chart.gp.</summary>
    public string ChartData()
    {
        var data = new StringBuilder("# label\treq/s\tp99 ms\tpeak RSS MB\tcolour\tgoal req/s\n");
        var l = Limit?.Throughput ?? double.NaN;
        var random = Find("points-random")?.Throughput ?? double.NaN;
        foreach (var s in _summaries.Where(s => s.Info.Kind != CaseKind.Ceiling))
        {
            double goal = s.Info.Key switch
            {
                "points-random" => 1.5 * l,
                "points-hot" => 0.8 * random,
                "card-use" => 1.2 * l,
                "card-sale" => 0.8 * l,
                "sqlite-points" => 1.0 * l,
                _ => double.NaN,
            };
            var colour = s.Info.Kind switch { CaseKind.Pgbench => 1, CaseKind.Postgres => 2, _ => 3 };
            data.AppendLine(Inv, $"\"{s.Info.Label}\"\t{s.Throughput:0.0}\t{s.P99Ms:0.00}\t{(s.PeakRssMb is { } rss ? rss.ToString("0.0", Inv) : "NaN")}\t{colour}\t{goal:0.0}");
        }
        return data.ToString();
    }

    /// <summary>gnuplot's -e settings for bench/chart.gp.</summary>
    public string ChartSettings(string dataFile, string pngFile)
    {
        var chartable = _summaries.Where(s => s.Info.Kind != CaseKind.Ceiling).ToList();
        var l = Limit?.Throughput ?? 0;
        var random = Find("points-random")?.Throughput ?? 0;
        var top = new[] { l * 1.5, random, l }.Concat(chartable.Select(s => s.Throughput)).Where(v => !double.IsNaN(v)).DefaultIfEmpty(1).Max();
        var p99 = chartable.Select(s => s.P99Ms).Where(v => !double.IsNaN(v)).Append(25).Max();
        var rss = chartable.Select(s => s.PeakRssMb ?? 0).Append(300).Max();
        var ceiling = Find("health") is { } h ? $"; GET /health {h.Throughput:N0} req/s (the HTTP ceiling)" : "";
        var heading = $"Patron, {machine.Date:yyyy-MM-dd}, {machine.Cores} cores; medians of {options.Rounds} round(s), {options.Connections} connections{ceiling}";
        return string.Join("; ",
            $"data='{dataFile}'", $"out='{pngFile}'", $"limit={l.ToString("0.0", Inv)}",
            $"ymax={(top * 1.15).ToString("0", Inv)}", $"p99max={(p99 * 2).ToString("0.0", Inv)}", $"rssmax={(rss * 1.15).ToString("0", Inv)}",
            $"heading='{heading.Replace("'", "", StringComparison.Ordinal)}'");
    }
}
