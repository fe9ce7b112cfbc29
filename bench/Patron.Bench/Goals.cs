using System.Globalization;
using System.Text;

namespace Patron.Bench;

/// <summary>
/// Ratios taken round by round: a service case against the limit of its own round (the best
/// pgbench figure of that round), or against another case of the same round; the summary of a
/// ratio is the median over the rounds, so that a round measured while the machine was quieter
/// or busier is compared with itself.
/// </summary>
public sealed class RoundRatios(IReadOnlyList<CaseResult> results, IEnumerable<string> pgbenchKeys)
{
    private readonly HashSet<string> _pgbench = [.. pgbenchKeys];

    public IEnumerable<int> Rounds => results.Select(r => r.Round).Distinct().Order();

    /// <summary>The round's limit: its best pgbench case, or null when none ran in it.</summary>
    public CaseResult? Limit(int round) =>
        results.Where(r => r.Round == round && _pgbench.Contains(r.Key)).MaxBy(r => r.Throughput);

    public double? LimitTps(int round) => Limit(round)?.Throughput;

    /// <summary>The median over the rounds of the case's throughput ÷ its round's limit.</summary>
    public double VsLimit(string key) =>
        Median(results.Where(r => r.Key == key).Select(r => LimitTps(r.Round) is { } l and > 0 ? r.Throughput / l : double.NaN));

    /// <summary>The median over the rounds of <paramref name="key"/>'s throughput ÷ <paramref name="other"/>'s in the same round.</summary>
    public double VsCase(string key, string other) =>
        Median(results.Where(r => r.Key == key).Select(r =>
            results.FirstOrDefault(o => o.Key == other && o.Round == r.Round) is { Throughput: > 0 } o ? r.Throughput / o.Throughput : double.NaN));

    public double MedianLimit() => Median(Rounds.Select(r => LimitTps(r) ?? double.NaN));

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0)
            return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>The goals of issue #25 (and card sale's of #5), each computed from this run's results.</summary>
public static class Goals
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    public const double MaxP99Ms = 50;
    public const double MaxRssMb = 300;

    public static string Markdown(BenchOptions options, RoundRatios ratios, IReadOnlyList<CaseSummary> summaries)
    {
        CaseSummary? Find(string key) => summaries.FirstOrDefault(s => s.Info.Key == key);
        var few = options.Connections;
        var many = $"-{options.Many}";
        var rows = new List<(string What, string Target, string Measured, bool? Met)>();

        void VsLimit(string what, string key, double needed, bool withP99)
        {
            var ratio = ratios.VsLimit(key);
            var p99 = Find(key)?.P99Ms ?? double.NaN;
            if (double.IsNaN(ratio))
                rows.Add((what, Target(needed, "limit", withP99), Find(key) is null ? "not run" : "no limit in its rounds", null));
            else
                rows.Add((what, Target(needed, "limit", withP99), $"{Ratio(ratio)}{(withP99 ? $", p99 {Ms(p99)} ms" : "")}",
                    ratio >= needed && (!withP99 || p99 <= MaxP99Ms)));
        }
        void VsCase(string what, string key, string other, double needed, string of)
        {
            var ratio = ratios.VsCase(key, other);
            rows.Add((what, $"≥ {needed.ToString("0.0", Inv)} × {of}", double.IsNaN(ratio) ? "not run" : Ratio(ratio), double.IsNaN(ratio) ? null : ratio >= needed));
        }

        foreach (var g in LimitGoals(options))
            VsLimit(g.What, g.Key, g.Needed, g.WithP99);
        VsCase($"points add, one hot member, {few} connections", "points-hot", "points-random", 0.8, "random members");
        VsCase($"points add, one hot member, {options.Many} connections", $"points-hot{many}", $"points-random{many}", 0.8, "random members");
        foreach (var (key, what) in new[] { ("health", "`GET /health`"), ("card-query", "`queryMncardByMember`"), ("member-get", "`GET /api/v1/members/{id}`") })
            VsCase($"{what} at {options.Many} connections", $"{key}{many}", key, 1.0, $"{few} connections");

        var million = summaries.Where(s => s.Info.Key.StartsWith("points-random-1m", StringComparison.Ordinal)
                                           || s.Info.Key.StartsWith("card-use-1m", StringComparison.Ordinal)).ToList();
        var rss = million.Select(s => s.PeakRssMb).Where(v => v is not null).Max();
        rows.Add(("peak RSS of the service with 1,000,000 members", $"≤ {MaxRssMb:0} MB", rss is { } mb ? $"{mb:0} MB" : "not run", rss is { } r ? r <= MaxRssMb : null));
        var service = summaries.Where(s => s.Info.Kind != CaseKind.Pgbench).ToList();
        var failed = service.Sum(s => s.Failed);
        rows.Add(("failed requests, every service case", "0", service.Count == 0 ? "not run" : failed.ToString("N0", Inv), service.Count == 0 ? null : failed == 0));

        var md = new StringBuilder();
        md.AppendLine("## Goals");
        md.AppendLine();
        md.AppendLine(Inv, $"Each × is the median over the rounds of that round's ratio: a case against its own round's limit, or against the other case of the same round. p99: the median of the rounds'. Met {rows.Count(r => r.Met == true)}, not met {rows.Count(r => r.Met == false)}, not run {rows.Count(r => r.Met is null)}.");
        md.AppendLine();
        md.AppendLine("| goal | target | measured | met |");
        md.AppendLine("|---|---|--:|:-:|");
        foreach (var (what, target, measured, met) in rows)
            md.AppendLine(Inv, $"| {what} | {target} | {measured} | {(met is { } m ? m ? "✓" : "✗" : "")} |");
        md.AppendLine();
        return md.ToString();
    }

    /// <summary>The goals against the round's limit, in the table's order: one list for the table and the chart's dots.</summary>
    private static IEnumerable<(string Key, string What, double Needed, bool WithP99)> LimitGoals(BenchOptions options)
    {
        var (few, many) = (options.Connections, options.Many);
        foreach (var (members, suffix) in new[] { ("10,000", ""), ("1,000,000", "-1m") })
        {
            yield return ($"points-random{suffix}", $"points add, random of {members} members, {few} connections", 1.5, false);
            yield return ($"points-random{suffix}-{many}", $"points add, random of {members} members, {many} connections", 2.0, true);
            yield return ($"card-use{suffix}", $"card use, {members} members, {few} connections", 1.2, false);
            yield return ($"card-use{suffix}-{many}", $"card use, {members} members, {many} connections", 1.5, true);
        }
        yield return ("sqlite-points", $"points add on SQLite, {few} connections", 1.0, false);
        yield return ($"sqlite-points-{many}", $"points add on SQLite, {many} connections", 1.0, false);
        yield return ("card-sale", $"card sale, {few} connections (issue #5)", 0.8, false);
    }

    /// <summary>The goal of a case with its rounds' limit ratio: what the chart's dot shows, null when it has none.</summary>
    public static double? ChartGoal(string key, BenchOptions options) =>
        LimitGoals(options).Where(g => g.Key == key).Select(g => (double?)g.Needed).FirstOrDefault();

    private static string Target(double needed, string of, bool withP99) =>
        $"≥ {needed.ToString("0.0", Inv)} × {of}{(withP99 ? $", p99 ≤ {MaxP99Ms:0} ms" : "")}";

    public static string Ratio(double r) => double.IsNaN(r) ? "—" : r.ToString("0.00", Inv) + "×";

    public static string Ms(double ms) => double.IsNaN(ms) ? "—" : ms < 10 ? ms.ToString("0.00", Inv) : ms.ToString("0.0", Inv);
}
