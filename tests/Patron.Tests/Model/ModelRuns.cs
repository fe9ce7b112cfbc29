using System.Diagnostics;
using CsCheck;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Model;

/// <summary>
/// Runs of operations against the service and the model (<see cref="WriteModel"/>), compared by
/// <see cref="Counterexample"/>. PATRON_MODEL_ITER multiplies the runs. A failure prints the
/// shortest run found and its first difference; PATRON_MODEL_SEED set to the seed it reports, with
/// PATRON_MODEL_ITER raised, searches on from it for a shorter one.
/// </summary>
public abstract class ModelRuns(Backend backend, ITestOutputHelper output) : PatronTest(backend)
{
    protected static long Scale => long.TryParse(Environment.GetEnvironmentVariable("PATRON_MODEL_ITER"), out var n) && n > 0 ? n : 1;

    /// <summary>The runs' worlds and the operations on them, for a service of <c>hosts</c> instances.</summary>
    protected abstract Gen<World> Worlds { get; }

    protected abstract Gen<Op>[] Ops(int hosts);

    /// <summary>How many runs go at once in the one-at-a-time test (each run's own operations never overlap).</summary>
    protected virtual int RunsAtOnce => 2;

    private GenOperation<LiveWrites, WriteModel>[] Operations(int hosts) =>
        [.. Ops(hosts).Select(gen => GenOperation.Create<LiveWrites, WriteModel, Op>(gen, Counterexample.Name, (live, op) => live.Apply(op), (model, op) => model.Apply(op)))];

    private Gen<(LiveWrites, WriteModel)> Initial(LiveHosts hosts) => Worlds.Select(w => (new LiveWrites(hosts, w), new WriteModel(w)));

    protected async Task RunOneAtATimeAsync(LiveHosts hosts, long iter)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await Task.Run(() => Initial(hosts).SampleModelBased(Operations(hosts.Count), Counterexample.Equal, seed: Seed, iter: iter * Scale, threads: RunsAtOnce,
                printActual: Counterexample.Print, printModel: Counterexample.Print, writeLine: output.WriteLine));
        }
        finally
        {
            Summarize(hosts, clock);
        }
    }

    /// <summary>CsCheck runs one run at a time here; the operations of its parallel part go at once.</summary>
    protected async Task RunConcurrentlyAsync(LiveHosts hosts, long iter)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await Task.Run(() => Initial(hosts).SampleParallel(Operations(hosts.Count), Counterexample.Equal, seed: Seed, maxSequentialOperations: 12,
                maxParallelOperations: 4, iter: iter * Scale, threads: 4, printActual: Counterexample.Print, printModel: Counterexample.Print,
                writeLine: output.WriteLine));
        }
        finally
        {
            Summarize(hosts, clock);
        }
    }

    private void Summarize(LiveHosts hosts, Stopwatch clock)
    {
        output.WriteLine($"{hosts.Sent} requests in {clock.Elapsed.TotalSeconds:0.0} s; the model's answers in the runs that passed:");
        foreach (var (answer, count) in hosts.Answers.OrderBy(a => a.Key, StringComparer.Ordinal))
            output.WriteLine($"  {answer}: {count}");
    }

    /// <summary>PATRON_MODEL_SEED replays a run that CsCheck reported.</summary>
    private static string? Seed => Environment.GetEnvironmentVariable("PATRON_MODEL_SEED") is { Length: > 0 } seed ? seed : null;
}
