using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Patron.Bench;

/// <summary>
/// What the quiet check saw just before one case: the load average, and over its window the
/// machine's CPU busy, the part of it this benchmark's own processes took (services, PostgreSQL,
/// the benchmark), the part other processes took (the busiest named), and how long it waited.
/// CPU figures are percent of all cores together (the whole machine = 100 %).
/// </summary>
public sealed record QuietSample(string Key, int Round, string LoadAverage, double BusyPercent, double OursPercent,
    double OthersPercent, string TopOthers, double WaitedSeconds, bool Quiet);

/// <summary>The machine stayed busy past the wait: the run stops rather than measure the neighbours.</summary>
public sealed class MachineBusyException(string message) : Exception(message);

/// <summary>
/// Before every case, pgbench's and the service's alike: the machine's CPU busy over a short window
/// while the load generator is idle must be under a threshold, or the check waits, samples again,
/// and after a bounded wait refuses. It gates on CPU over the window, not on the load average: the
/// previous case (ours) keeps the 1-minute load average up for minutes after it ends, while the
/// CPU falls back at once; the load average is still read and reported.
/// </summary>
/// <param name="settle">
/// Run first, before every check: what the case before left behind is dealt with now, so that
/// the check then waits for it to end (PostgreSQL's checkpoint, <see cref="WalSegments"/>).
/// </param>
public sealed class QuietCheck(BenchOptions options, Action<string> say, Func<Task>? settle = null)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public List<QuietSample> Samples { get; } = [];

    public async Task<QuietSample> WaitAsync(string key, int round)
    {
        if (settle is not null)
            await settle();
        var clock = Stopwatch.StartNew();
        var window = TimeSpan.FromSeconds(options.QuietWindow);
        for (var attempt = 1; ; attempt++)
        {
            var load = MachineInfo.LoadAverage();
            var (busy, ours, others, top, topOurs) = await SampleAsync(window);
            var quiet = busy < options.QuietCpu || options.QuietCpu >= 100;
            var waited = Math.Max(0, clock.Elapsed.TotalSeconds - window.TotalSeconds);
            var seen = $"{busy:0.0} % of the machine busy over {window.TotalSeconds:0} s (ours {ours:0.0} %{(topOurs.Length > 0 ? $" [{topOurs}]" : "")}, others {others:0.0} %{(top.Length > 0 ? $" [{top}]" : "")}, " +
                       $"unattributed {Unattributed(busy, ours, others):0.0} %), load average {load}";
            if (quiet || clock.Elapsed.TotalSeconds >= options.QuietWait)
            {
                var sample = new QuietSample(key, round, load, busy, ours, others, top, waited, quiet);
                Samples.Add(sample);
                if (!quiet)
                    throw new MachineBusyException(
                        $"refused to run {key} (round {round}): the machine was not quiet for {options.QuietWait} s; last {seen}; threshold {options.QuietCpu} % (--quiet-cpu)");
                if (attempt > 1)
                    say($"quiet after {waited:0} s: {seen}");
                return sample;
            }
            say($"waiting for a quiet machine before {key}: {seen}; threshold {options.QuietCpu} %");
        }
    }

    /// <summary>Busy time no process we saw took: the kernel's own, steal, or processes that ended within the window.</summary>
    private static double Unattributed(double busy, double ours, double others) => Math.Max(0, busy - ours - others);

    /// <summary>
    /// Two readings of /proc, <paramref name="window"/> apart: busy, ours and others' CPU, percent of all cores, and the
    /// busiest of each by name (PostgreSQL's processes by their title: a backend, the checkpointer, an autovacuum worker).
    /// </summary>
    private async Task<(double Busy, double Ours, double Others, string Top, string TopOurs)> SampleAsync(TimeSpan window)
    {
        var machine1 = ProcStat.Machine();
        var before = ProcStat.Processes();
        await Task.Delay(window);
        var machine2 = ProcStat.Machine();
        var after = ProcStat.Processes();
        var total = (machine2.Total - machine1.Total) * 100; // in ticks
        if (total <= 0)
            return (0, 0, 0, "", "");
        var ours = Ours(after);
        var oursByName = new Dictionary<string, double>(StringComparer.Ordinal);
        var othersByName = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (pid, p) in after)
        {
            // A process started within the window counts whole; a pid reused is told apart by its start time (names change: kworkers).
            var ticks = p.Ticks - (before.TryGetValue(pid, out var b) && b.Started == p.Started ? b.Ticks : 0);
            if (ticks <= 0)
                continue;
            if (ours.Contains(pid))
            {
                var title = Title(pid, p.Name);
                oursByName[title] = oursByName.GetValueOrDefault(title) + ticks;
            }
            else
                othersByName[p.Name] = othersByName.GetValueOrDefault(p.Name) + ticks;
        }
        string Busiest(Dictionary<string, double> byName) => string.Join(", ", byName.OrderByDescending(o => o.Value)
            .Where(o => o.Value / total >= 0.005).Take(3).Select(o => string.Create(Inv, $"{o.Key} {100 * o.Value / total:0.0} %")));
        return (100 * (machine2.Busy - machine1.Busy) * 100 / total, 100 * oursByName.Values.Sum() / total, 100 * othersByName.Values.Sum() / total,
            Busiest(othersByName), Busiest(oursByName));
    }

    /// <summary>PostgreSQL titles its processes ("postgres: autovacuum worker patron"); the two words after "postgres:" say which.</summary>
    private static string Title(int pid, string name)
    {
        if (name != "postgres")
            return name;
        try
        {
            var words = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return words.Length >= 2 && words[0] == "postgres:" ? string.Join(' ', words.Take(3)) : name;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return name; // it ended within the window
        }
    }

    /// <summary>
    /// This run's processes: everything under bench/run's shell (this program, the services, the
    /// webhook receiver) and under PostgreSQL's postmaster (its backends, checkpointer, autovacuum).
    /// </summary>
    private HashSet<int> Ours(Dictionary<int, ProcStat.Proc> all)
    {
        var roots = new HashSet<int> { Environment.ProcessId };
        if (all.TryGetValue(Environment.ProcessId, out var self) && self.Parent > 1)
            roots.Add(self.Parent);
        if (ProcStat.Postmaster() is { } postmaster)
            roots.Add(postmaster);
        var ours = new HashSet<int>(roots);
        bool added;
        do
        {
            added = false;
            foreach (var (pid, p) in all)
                if (!ours.Contains(pid) && ours.Contains(p.Parent))
                    added = ours.Add(pid) || added;
        }
        while (added);
        return ours;
    }

    /// <summary>The report's section: what the check saw before each case.</summary>
    public string Markdown()
    {
        var md = new StringBuilder();
        md.AppendLine("## The machine before each case");
        md.AppendLine();
        md.AppendLine(Inv, $"Before every case the benchmark samples the CPU for {options.QuietWindow} s while its load generator is idle; it runs the case once the whole machine is under {options.QuietCpu} % busy (all cores = 100 %), waits while it is not, and refuses after {options.QuietWait} s. Ours: the services, PostgreSQL, this benchmark; others: every other process (the three busiest named); unattributed: busy time of the kernel's own, steal, or processes that ended within the window. The load average (1, 5, 15 min) lags: our previous case keeps it up for minutes.");
        md.AppendLine();
        md.AppendLine("| round | case | load average | busy % | ours % | others % | busiest others | unattributed % | waited s |");
        md.AppendLine("|--:|---|---|--:|--:|--:|---|--:|--:|");
        foreach (var s in Samples)
            md.AppendLine(Inv, $"| {s.Round} | {s.Key} | {s.LoadAverage} | {s.BusyPercent:0.0}{(s.Quiet ? "" : " ✗")} | {s.OursPercent:0.0} | {s.OthersPercent:0.0} | {(s.TopOthers.Length > 0 ? s.TopOthers : "—")} | {Unattributed(s.BusyPercent, s.OursPercent, s.OthersPercent):0.0} | {s.WaitedSeconds:0} |");
        md.AppendLine();
        return md.ToString();
    }
}
