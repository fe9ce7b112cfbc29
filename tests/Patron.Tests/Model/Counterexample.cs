namespace Patron.Tests.Model;

/// <summary>
/// Compares a run of the service with the model's, and prints a failing one so that it reads
/// quickly: the first difference, then only the earlier answers that touch the same member, key,
/// sale or card. CsCheck cuts its message at 5,000 characters.
/// </summary>
public static class Counterexample
{
    /// <summary>
    /// The same answer for each operation (matched by the operation itself, so that a concurrent
    /// run compares whatever order it took), then the same state at the end.
    /// </summary>
    public static bool Equal(LiveWrites live, WriteModel model)
    {
        var expected = model.Log.ToDictionary<(Op Op, string Answer), Op, string>(l => l.Op, l => l.Answer, ReferenceEqualityComparer.Instance);
        foreach (var ((op, answer), i) in live.Log.Select((l, i) => (l, i)))
            if (expected.GetValueOrDefault(op) != answer)
            {
                var text = $"answer #{i}, {Requests.Describe(live.World, op)}{Repeats(live, i)}: the model says '{expected.GetValueOrDefault(op)}', the service '{answer}'";
                live.Mismatch = model.Mismatch = (i, text);
                return false;
            }
        var (actual, wanted) = (live.Final(), model.Final());
        var line = Enumerable.Range(0, Math.Max(actual.Count, wanted.Count))
            .FirstOrDefault(i => i >= actual.Count || i >= wanted.Count || actual[i] != wanted[i], -1);
        if (line >= 0)
        {
            live.Mismatch = model.Mismatch = (null, $"final line {line}: the model says '{wanted.ElementAtOrDefault(line)}', the service '{actual.ElementAtOrDefault(line)}'"
                + Both(wanted, actual, (wanted.ElementAtOrDefault(line) ?? actual[line]).Split(' ', ':')[0]));
            return false;
        }
        if (live.FirstMatch())
            live.Hosts.Tally(model);
        return true;
    }

    /// <summary>The final lines of one member (or sale) on both sides, so that the difference reads without the model's print, which CsCheck may cut.</summary>
    private static string Both(IReadOnlyList<string> wanted, IReadOnlyList<string> actual, string subject)
    {
        bool Of(string l) => l.StartsWith(subject + " ", StringComparison.Ordinal) || l.StartsWith(subject + ":", StringComparison.Ordinal);
        return Lines($"the model's {subject}", [.. wanted.Where(Of)]) + Lines($"the service's {subject}", [.. actual.Where(Of)]);
    }

    /// <summary>The failing request sent before, as it was, and answered with a success: the case of a retry.</summary>
    private static string Repeats(WriteState run, int i)
    {
        var log = run.Log;
        var request = Requests.Describe(run.World, log[i].Op with { Host = 0 });
        var first = Enumerable.Range(0, i).FirstOrDefault(j => log[j].Answer.StartsWith("ok", StringComparison.Ordinal)
            && Requests.Describe(run.World, log[j].Op with { Host = 0 }) == request, -1);
        return first < 0 ? "" : $" (a retry of #{first}, which succeeded)";
    }

    /// <summary>The service's side: its answers up to the first difference, or all of them and its final state.</summary>
    public static string Print(LiveWrites live)
    {
        if (live.Log.Count == 0)
            return "(new members, nothing sent yet)";
        var start = live.World.Start is { } s ? $"\n  the run starts at {s:yyyy-MM-dd HH:mm zzz}" : "";
        if (live.Mismatch is not var (index, text))
            return start + Answers(live, live.Log.Count - 1) + Lines("final", live.Final());
        return $"\n  FIRST DIFFERENCE: {text}" + start + Answers(live, index ?? live.Log.Count - 1) + (index is null ? Lines("final", live.Final()) : "");
    }

    /// <summary>
    /// The model's side: what differs is in the service's print; its final state if that is where.
    /// A concurrent run prints one model per order tried: its last answers, those of the concurrent operations.
    /// </summary>
    public static string Print(WriteModel model) => model.Mismatch switch
    {
        null when model.Log.Count == 0 => "(new members, nothing sent yet)",
        (int i, _) => $"the same answers as the service's before #{i}",
        (null, _) => Lines("final", model.Final()),
        null => string.Join("; ", model.Log.TakeLast(4).Select(l => $"{Name(l.Op)} -> {l.Answer}")),
    };

    public static string Name(Op op) => op switch
    {
        SendPoints p => $"p{p.Template}{Altered(p.Alter)}",
        Adjust a => $"adj m{a.Member} {a.BusiType}{a.Change}",
        Sell s => $"s{s.Template}{Altered(s.Alter)}",
        Use u => $"u{u.Template}{Altered(u.Alter)}",
        Cancel c => $"cancel u{c.Template}",
        Refund r => $"refund s{r.Template}",
        Advance a => $"+{a.Hours}h",
        Settle => "settle",
        SetLevel l => $"set m{l.Member} L{l.Level}",
        _ => op.ToString(),
    } + (op.Host > 0 ? $"@{op.Host}" : "");

    private static string Altered(int alter) => alter > 0 ? "'" + alter : "";

    private static string Answers(WriteState run, int last)
    {
        var log = run.Log;
        var subjects = Subjects(run.World, log[last].Op);
        var shown = Enumerable.Range(0, last + 1).Where(i => i == last || Subjects(run.World, log[i].Op).Overlaps(subjects)).ToList();
        return $"\n  answers that touch {string.Join(", ", subjects.Order(StringComparer.Ordinal))} ({last + 1 - shown.Count} others left out):\n" +
            string.Join("\n", shown.Select(i => $"    #{i} {Requests.Describe(run.World, log[i].Op)} -> {log[i].Answer}"));
    }

    private static string Lines(string title, IReadOnlyList<string> lines) => $"\n  {title}:\n{string.Join("\n", lines.Select(l => "    " + l))}";

    /// <summary>What an operation reads or changes: its member, its key, its sale (the cards' sale for a use or a cancel).</summary>
    private static HashSet<string> Subjects(World w, Op op) => op switch
    {
        SendPoints p when Requests.Points(w, p) is var r => [$"m{r.Member}", r.Key],
        Adjust a => [$"m{a.Member}"],
        Sell s when Requests.Sale(w, s) is var r => [r.SaleNo],
        Use u => [$"u{u.Template}", $"s{w.Uses[u.Template].Sale}"],
        Cancel c => [$"u{c.Template}", $"s{w.Uses[c.Template].Sale}"],
        Refund r => [$"s{r.Template}"],
        SetLevel l => [$"m{l.Member}"],
        // The clock and the settling job touch every member.
        Advance or Settle => [.. Enumerable.Range(0, ModelCatalog.Members).Select(m => $"m{m}")],
        _ => [],
    };
}
