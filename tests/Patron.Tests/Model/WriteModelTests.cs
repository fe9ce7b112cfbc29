using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.AspNetCore.Hosting;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Model;

/// <summary>
/// Every write through HTTP — points changes by partners and operators, card sales, uses,
/// cancels, refunds, and retries of each as it was or with other content — against the model
/// applied one request at a time (<see cref="WriteModel"/>), on the test world's clock. Each run
/// has its own members and keys on the test's database. The points' lifecycle, on a clock the
/// runs move, is <see cref="LotModelTests"/>.
/// </summary>
public abstract class WriteModelTests(Backend backend, ITestOutputHelper output) : ModelRuns(backend, output)
{
    protected override JsonObject Catalog() => ModelCatalog.Build();

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.UseSetting("RateLimit:PermitsPerSecond", "0").UseSetting("Logging:LogLevel:Default", "Warning");

    protected override Gen<World> Worlds => WorldGen.World;

    protected override Gen<Op>[] Ops(int hosts) => WorldGen.Ops(hosts);

    protected LiveHosts Hosts(params PatronApp[] apps) => new(apps, PartnerClient);

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
