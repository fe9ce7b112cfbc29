using System.Diagnostics;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.AspNetCore.Hosting;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Model;

/// <summary>
/// Every write through HTTP — points changes by partners and operators, card sales, uses,
/// cancels, refunds, and retries of each as it was or with other content — against the model
/// applied one request at a time (<see cref="WriteModel"/>). Each run has its own members and
/// keys on the test's database. PATRON_MODEL_ITER multiplies the runs. A failure prints the
/// shortest run found and its first difference; PATRON_MODEL_SEED set to the seed it reports,
/// with PATRON_MODEL_ITER raised, searches on from it for a shorter one.
/// </summary>
public abstract class WriteModelTests(Backend backend, ITestOutputHelper output) : PatronTest(backend)
{
    protected static long Scale => long.TryParse(Environment.GetEnvironmentVariable("PATRON_MODEL_ITER"), out var n) && n > 0 ? n : 1;

    protected override JsonObject Catalog() => ModelCatalog.Build();

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.UseSetting("RateLimit:PermitsPerSecond", "0").UseSetting("Logging:LogLevel:Default", "Warning");

    protected LiveHosts Hosts(params PatronApp[] apps) => new(apps, PartnerClient);

    private static GenOperation<LiveWrites, WriteModel>[] Operations(int hosts) =>
        [.. WorldGen.Ops(hosts).Select(gen => GenOperation.Create<LiveWrites, WriteModel, Op>(gen, Counterexample.Name, (live, op) => live.Apply(op), (model, op) => model.Apply(op)))];

    private static Gen<(LiveWrites, WriteModel)> Initial(LiveHosts hosts) => WorldGen.World.Select(w => (new LiveWrites(hosts, w), new WriteModel(w)));

    protected async Task RunOneAtATimeAsync(LiveHosts hosts, long iter)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await Task.Run(() => Initial(hosts).SampleModelBased(Operations(hosts.Count), Counterexample.Equal, seed: Seed, iter: iter * Scale, threads: 2,
                printActual: Counterexample.Print, printModel: Counterexample.Print, writeLine: output.WriteLine));
        }
        finally
        {
            Summarize(hosts, clock);
        }
    }

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

    [Fact]
    public Task EveryWriteAndRetryAnswersAsTheModelAppliedOneRequestAtATime() => RunOneAtATimeAsync(Hosts(App), iter: 30);

    [Fact]
    public Task ConcurrentWritesAnswerAsTheModelInSomeOneAtATimeOrder() => RunConcurrentlyAsync(Hosts(App), iter: 30);
}

public sealed class WriteModelTestsOnSqlite(ITestOutputHelper output) : WriteModelTests(Backend.Sqlite, output);

public sealed class WriteModelTestsOnPostgres(ITestOutputHelper output) : WriteModelTests(Backend.Postgres, output)
{
    [Fact]
    public Task TwoInstancesOnOneDatabaseAnswerAsTheModelAppliedOneRequestAtATime() => RunOneAtATimeAsync(Hosts(App, StartApp()), iter: 25);

    [Fact]
    public Task ConcurrentWritesThroughTwoInstancesAnswerAsTheModelInSomeOneAtATimeOrder() =>
        RunConcurrentlyAsync(Hosts(App, StartApp()), iter: 25);
}
