using System.Diagnostics;
using System.Runtime.InteropServices;
using Patron.Bench;

// The orchestrator behind bench/run, which has already built the service (Release) and started a
// throwaway PostgreSQL: pgbench's limit and the service's cases, round after round, then the report.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"patron-bench: {e.Message}\n{BenchOptions.Usage}");
    return 2;
}

// "limit" selects all of pgbench's cases: a service case's × limit needs its round's.
if (options.Only.Remove("limit"))
    options.Only.UnionWith(Pgbench.Cases.Select(c => c.Key));
string[] knownKeys = [.. Pgbench.Cases.Select(c => c.Key), .. ServiceCases.Keys(options), ExpiryPairs.PostgresKey, ExpiryPairs.SqliteKey, WebhookPairs.Key];
if (options.Only.Except(knownKeys).FirstOrDefault() is { } unknown)
{
    Console.Error.WriteLine($"patron-bench: --only: no case '{unknown}'; the cases: limit (all of pgbench's), {string.Join(", ", knownKeys)}");
    return 2;
}

var services = new List<ServiceProcess>();
ReceiverProcess? receiver = null;
void StopServices()
{
    lock (services)
        foreach (var s in services)
            s.Kill();
    receiver?.Kill();
}
// Ctrl-C or a kill: the services go down with the benchmark (bench/run also kills what the pids file lists).
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => StopServices());
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => StopServices());

Directory.CreateDirectory(options.Out);
foreach (var old in Directory.GetFiles(options.Out, "latest-service-*.log"))
    File.Delete(old);
var pgbench = new Pgbench(options);
var workload = new Workload(options.Members);
var results = new List<CaseResult>();
var cases = new List<CaseInfo>();
MachineInfo? machine = null;
ProcStat.PostgresData = Path.Combine(options.Work, "pg");
SetupInfo? setup = null;
MillionSetup? million = null;
var expiry = new ExpiryPairs();
var hooks = new WebhookPairs();
string? problem = null;
var exitCode = 0;
var clock = Stopwatch.StartNew();
void Say(string line) => Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}");
var quiet = new QuietCheck(options, Say, () => WalSegments.CheckpointAsync(pgbench));

try
{
    Say("setting up: pgbench's database, the service's database, the catalog");
    await pgbench.CreateDatabaseAsync();
    await WalSegments.FillAsync(pgbench);
    await pgbench.Psql("postgres", "-c", "CREATE DATABASE patron");
    machine = await MachineInfo.ReadAsync(options, pgbench);
    var catalog = workload.WriteCatalog(Path.Combine(options.Work, "catalog.json"));

    var startupLimit = TimeSpan.FromMinutes(10);
    // Each service runs in a folder of its own: not in the one holding PostgreSQL's data.
    var postgresFolder = Directory.CreateDirectory(Path.Combine(options.Work, "postgres-service")).FullName;
    var onPostgres = await ServiceProcess.StartAsync("postgres", options,
        ["--storage", "postgres", "--connection", options.PgConnection("patron"), "--catalog", catalog], postgresFolder, startupLimit);
    lock (services)
        services.Add(onPostgres);
    Say($"service on PostgreSQL ready at {onPostgres.Url} in {onPostgres.StartupTime.TotalSeconds:0.0} s");
    // SQLite as the service ships it: no --storage, no --connection, so data/patron.db in its (temporary) working folder.
    var sqliteFolder = Directory.CreateDirectory(Path.Combine(options.Work, "sqlite")).FullName;
    var onSqlite = await ServiceProcess.StartAsync("sqlite", options, ["--catalog", catalog], sqliteFolder, startupLimit);
    lock (services)
        services.Add(onSqlite);
    Say($"service on SQLite ready at {onSqlite.Url} in {onSqlite.StartupTime.TotalSeconds:0.0} s");

    var mostConnections = Math.Max(options.Connections, options.Many);
    using var postgresHttp = LoadRunner.NewClient(onPostgres.Url, mostConnections);
    using var sqliteHttp = LoadRunner.NewClient(onSqlite.Url, mostConnections);
    onPostgres.Phase = "selling the cards of the card-use case";
    var selling = Stopwatch.StartNew();
    await workload.SellCardsAsync(postgresHttp, options.Cards, perSale: 10);
    onPostgres.Phase = onSqlite.Phase = "between cases";
    setup = new SetupInfo(onPostgres.StartupTime, onSqlite.StartupTime, selling.Elapsed, options.Cards);
    Say($"{options.Cards} cards sold in {selling.Elapsed.TotalSeconds:0.0} s");

    bool Selected(string key) => options.Only.Count == 0 || options.Only.Contains(key);
    Func<ILoadConnection> Connect(ServiceProcess service, HttpClient shared) =>
        options.Client == "raw" ? () => new RawHttpConnection(service.Url) : () => new HttpClientConnection(shared);
    var toPostgres = Connect(onPostgres, postgresHttp);
    var toSqlite = Connect(onSqlite, sqliteHttp);
    var targets = new Dictionary<string, Target>
    {
        [ServiceCases.Small] = new(onPostgres, toPostgres, workload),
        [ServiceCases.Sqlite] = new(onSqlite, toSqlite, workload),
    };
    var big = ServiceCases.NeedsMillion(Selected, options)
        ? await MillionMembers.StartAsync(options, pgbench, Say, s => { lock (services) services.Add(s); })
        : default;
    using var bigHttp = big.Service is null ? null : LoadRunner.NewClient(big.Service.Url, mostConnections);
    if (big.Service is not null)
    {
        million = big.Setup;
        targets[ServiceCases.Million] = new(big.Service, Connect(big.Service, bigHttp!), big.Workload);
    }
    // The webhooks cases' earlier build (--baseline), on a database of its own.
    var (baselineService, baselineWorkload) = Selected(WebhookPairs.Key) && options.Baseline is not null
        ? await BaselineService.StartAsync(options, pgbench, catalog, Say, s => { lock (services) services.Add(s); })
        : default;
    using var baselineHttp = baselineService is null ? null : LoadRunner.NewClient(baselineService.Url, mostConnections);
    var http = ServiceCases.Build(options, targets, Selected);
    cases.AddRange(Pgbench.Cases.Select(c => new CaseInfo(c.Key, c.Title, c.Key.Replace("pg-", "pgbench ", StringComparison.Ordinal).Replace('-', ' '), CaseKind.Pgbench)));
    cases.AddRange(http.Select(h => new CaseInfo(h.Case.Key, h.Case.Title, h.Label, h.Kind)));
    var units = new List<Func<int, Task>>();
    // Points add with points.expiry off and on, in pairs: ExpiryPairs.
    var pairs = new List<(string Key, string Backend, ServiceProcess Service, Func<ILoadConnection> Connect, Func<System.Data.Common.DbConnection> Database, CaseKind Kind)>
    {
        (ExpiryPairs.PostgresKey, "PostgreSQL", onPostgres, toPostgres, () => ExpiryPairs.Postgres(options), CaseKind.Postgres),
        (ExpiryPairs.SqliteKey, "SQLite", onSqlite, toSqlite, () => ExpiryPairs.Sqlite(Path.Combine(sqliteFolder, "data", "patron.db")), CaseKind.Sqlite),
    };
    string PairTitle(string backend, bool on) => $"points add on {backend}, random members, expiry {(on ? ExpiryPairs.On : "off")}";
    foreach (var p in pairs.Where(p => Selected(p.Key)))
        foreach (var on in new[] { false, true })
            cases.Add(new CaseInfo(on ? ExpiryPairs.OnKey(p.Key) : ExpiryPairs.OffKey(p.Key), PairTitle(p.Backend, on),
                $"{p.Backend} points add, expiry {(on ? "on" : "off")}", p.Kind));

    // Points add and card use with no webhook subscriber and one, in pairs: WebhookPairs.
    var hookCases = new List<(string Key, string Title, Func<Workload, Func<HttpRequestMessage>> Request, ResponseCheck Check)>();
    if (Selected(WebhookPairs.Key))
    {
        receiver = await ReceiverProcess.StartAsync(options);
        Say($"webhook receiver ready at {receiver.Url}");
        hookCases.Add(("points-random", "points add, random members", w => w.PointAddRandom, Checks.PointsEnvelope));
        hookCases.Add(("card-use", "card use (useMncard), random cards", w => w.CardUse, Checks.OpenApiEnvelope));
        if (baselineService is not null)
            hooks.BaselineCommit = await MachineInfo.CommitAsync(options.Baseline!);
        foreach (var (key, title, _, _) in hookCases)
        {
            foreach (var on in new[] { false, true })
                cases.Add(new CaseInfo(on ? WebhookPairs.OnKey(key) : WebhookPairs.OffKey(key), $"{title}, {(on ? "one webhook subscriber" : "no subscriber")}",
                    $"{key}, {(on ? "one subscriber" : "none")}", CaseKind.Postgres));
            if (baselineService is not null)
                cases.Add(new CaseInfo(WebhookPairs.BaselineKey(key), $"{title}, baseline build {hooks.BaselineCommit}", $"{key}, baseline", CaseKind.Postgres));
        }
    }

    // A round's units, pgbench's spread among the service's; a pair runs as one unit, its two cases back to back.
    var pgUnits = Pgbench.Cases.Where(c => Selected(c.Key)).Select(c => (Func<int, Task>)(async round =>
    {
        await quiet.WaitAsync(c.Key, round);
        var r = await pgbench.RunAsync(c, round);
        results.Add(r);
        Say($"round {round}/{options.Rounds}  {c.Key,-22} {r.Throughput,9:N0} tps    p50 {r.P50Ms,6:0.00} ms  p99 {r.P99Ms,7:0.00} ms  failed {r.Failed}");
    })).ToList();
    foreach (var h in http)
        units.Add(async round =>
        {
            await quiet.WaitAsync(h.Case.Key, round);
            var r = await LoadRunner.RunAsync(h.Case, h.Connect, h.Connections, TimeSpan.FromSeconds(options.Warmup), TimeSpan.FromSeconds(options.Duration), round,
                options.Rate);
            results.Add(r);
            Say($"round {round}/{options.Rounds}  {h.Case.Key,-22} {r.Throughput,9:N0} req/s  p50 {r.P50Ms,6:0.00} ms  p99 {r.P99Ms,7:0.00} ms  failed {r.Failed + r.WarmupFailed}  peak RSS {r.PeakRssMb:0} MB  CPU µs service {r.ServiceCpuUsPerRequest:0}, PostgreSQL {r.PostgresCpuUsPerRequest:0}, machine {r.MachineBusyPercent / 100 * machine.Cores / r.Throughput * 1e6:0}");
            foreach (var (message, count) in r.Failures.Take(3))
                Say($"    {count} × {message}");
        });
    void SayPair(CaseResult r, int round) =>
        Say($"round {round}/{options.Rounds}  {r.Key,-22} {r.Throughput,9:N0} req/s  p50 {r.P50Ms,6:0.00} ms  p99 {r.P99Ms,7:0.00} ms  failed {r.Failed + r.WarmupFailed}");
    foreach (var p in pairs.Where(p => Selected(p.Key)))
        units.Add(async round =>
        {
            LoadCase CaseFor(bool on) => new(on ? ExpiryPairs.OnKey(p.Key) : ExpiryPairs.OffKey(p.Key), PairTitle(p.Backend, on), p.Service,
                workload.PointAddRandom, Checks.PointsEnvelope);
            foreach (var r in await expiry.RunRoundAsync(p.Backend, p.Database, CaseFor, p.Connect, options, quiet, round, Say))
            {
                results.Add(r);
                SayPair(r, round);
            }
        });
    // Each webhooks case's sides, for the warm-up and every round.
    var hookSides = hookCases.Select(h => (h.Key,
        CaseFor: (Func<bool, LoadCase>)(on => new LoadCase(on ? WebhookPairs.OnKey(h.Key) : WebhookPairs.OffKey(h.Key),
            $"{h.Title}, {(on ? "one webhook subscriber" : "no subscriber")}", onPostgres, h.Request(workload), h.Check)),
        Before: baselineService is null ? null : new WebhookPairs.Baseline(
            new LoadCase(WebhookPairs.BaselineKey(h.Key), $"{h.Title}, baseline build", baselineService, h.Request(baselineWorkload!), h.Check),
            Connect(baselineService, baselineHttp!)))).ToList();
    foreach (var (key, caseFor, before) in hookSides)
        units.Add(async round =>
        {
            foreach (var r in await hooks.RunRoundAsync(key, caseFor, toPostgres, before, options, quiet, receiver!.Url, round, Say))
            {
                results.Add(r);
                SayPair(r, round);
            }
        });

    // Before round 1, each selected case once, unmeasured (BenchOptions.ServiceWarmup): with a few
    // seconds of warm-up, round 1 measured a service still compiling (bench/results/outbox-2026-12-05.md).
    foreach (var h in http)
    {
        Say($"warming the service up: {h.Case.Key} for {options.ServiceWarmup} s");
        await LoadRunner.RunAsync(h.Case, h.Connect, h.Connections, TimeSpan.Zero, TimeSpan.FromSeconds(options.ServiceWarmup), round: 0);
    }
    foreach (var (key, caseFor, before) in hookSides)
    {
        Say($"warming the service up: {key} with no subscriber{(before is null ? "" : ", and the baseline build")} for {options.ServiceWarmup} s each");
        await LoadRunner.RunAsync(caseFor(false), toPostgres, options.Connections, TimeSpan.Zero, TimeSpan.FromSeconds(options.ServiceWarmup), round: 0);
        if (before is not null)
            await LoadRunner.RunAsync(before.Case, before.Connect, options.Connections, TimeSpan.Zero, TimeSpan.FromSeconds(options.ServiceWarmup), round: 0);
    }
    var order = ServiceCases.Interleave(pgUnits, units);
    for (var round = 1; round <= options.Rounds; round++)
        foreach (var unit in order)
            await unit(round);
}
catch (MachineBusyException e)
{
    problem = e.Message;
    exitCode = 3;
    Console.Error.WriteLine($"patron-bench: {e.Message}");
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException or IOException)
{
    problem = e.Message;
    exitCode = 1;
    Console.Error.WriteLine($"patron-bench: {e.Message}");
}
finally
{
    var errors = services.SelectMany(s => s.FirstErrors.Select(line => $"{s.Name}: {line}")).ToList();
    foreach (var s in services)
        await s.DisposeAsync();
    if (receiver is not null)
        await receiver.DisposeAsync();
    // The services' logs beside the report (the first megabyte), for whoever reads a failure in it.
    foreach (var name in new[] { "postgres", "postgres-million", "sqlite", BaselineService.Name })
        if (File.Exists(ServiceProcess.LogPath(options, name)))
            await File.WriteAllBytesAsync(ServiceProcess.KeptLogPath(options, name),
                [.. File.ReadAllBytes(ServiceProcess.LogPath(options, name)).Take(1 << 20)]);
    if (machine is not null && (results.Count > 0 || quiet.Samples.Count > 0))
    {
        var report = new Report(options, machine, setup, cases, results) { Million = million, Expiry = expiry, Webhooks = hooks, Quiet = quiet };
        report.ServiceErrors.AddRange(errors);
        var markdown = Path.Combine(options.Out, "latest.md");
        await File.WriteAllTextAsync(markdown, report.Markdown(complete: problem is null, problem));
        var data = Path.Combine(options.Work, "chart.dat");
        await File.WriteAllTextAsync(data, report.ChartData());
        var png = Path.Combine(options.Out, "latest.png");
        try
        {
            await Tools.RunAsync("gnuplot", ["-e", report.ChartSettings(data, png), Path.Combine(options.Repo, "bench", "chart.gp")]);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"patron-bench: no chart: {e.Message}");
        }
        Say($"wrote {markdown} and {png}");
        Console.WriteLine();
        Console.WriteLine(await File.ReadAllTextAsync(markdown));
    }
}
return exitCode;
