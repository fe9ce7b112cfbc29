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

string[] httpKeys = ["points-random", "points-random-1m", "points-hot", "card-use", "card-use-1m", "card-sale", "health", "sqlite-points",
    ExpiryPairs.PostgresKey, ExpiryPairs.SqliteKey, WebhookPairs.Key];
if (options.Only.Except(httpKeys).Except(Pgbench.Cases.Select(c => c.Key)).FirstOrDefault() is { } unknown)
{
    Console.Error.WriteLine($"patron-bench: --only: no case '{unknown}'; the cases: {string.Join(", ", Pgbench.Cases.Select(c => c.Key).Concat(httpKeys))}");
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
SetupInfo? setup = null;
MillionSetup? million = null;
var expiry = new ExpiryPairs();
var hooks = new WebhookPairs();
string? problem = null;
var clock = Stopwatch.StartNew();
void Say(string line) => Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}");

try
{
    Say("setting up: pgbench's database, the service's database, the catalog");
    await pgbench.CreateDatabaseAsync();
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

    using var postgresHttp = LoadRunner.NewClient(onPostgres.Url, options.Connections);
    using var sqliteHttp = LoadRunner.NewClient(onSqlite.Url, options.Connections);
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
    var http = new List<(LoadCase Case, Func<ILoadConnection> Connect, string Label, CaseKind Kind)>
    {
        (new("points-random", "points add, random members", onPostgres, workload.PointAddRandom, Checks.PointsEnvelope), toPostgres, "points add random", CaseKind.Postgres),
        (new("points-hot", "points add, one member", onPostgres, workload.PointAddHot, Checks.PointsEnvelope), toPostgres, "points add hot member", CaseKind.Postgres),
        (new("card-use", "card use (useMncard), random cards", onPostgres, workload.CardUse, Checks.OpenApiEnvelope), toPostgres, "card use", CaseKind.Postgres),
        (new("card-sale", "card sale (sendMncardForSale), num 1", onPostgres, workload.CardSale, Checks.OpenApiEnvelope), toPostgres, "card sale", CaseKind.Postgres),
        (new("health", "GET /health (the HTTP ceiling; it reads the database once)", onPostgres, workload.Health, Checks.Health), toPostgres, "GET /health", CaseKind.Ceiling),
        (new("sqlite-points", "points add on SQLite, random members", onSqlite, workload.PointAddRandom, Checks.PointsEnvelope), toSqlite, "SQLite points add", CaseKind.Sqlite),
    };
    if (Selected("points-random-1m") || Selected("card-use-1m"))
    {
        var (big, bigWorkload, bigSetup) = await MillionMembers.StartAsync(options, pgbench, Say, s => { lock (services) services.Add(s); });
        million = bigSetup;
        var toBig = Connect(big, postgresHttp);
        // Beside their 10,000-member counterparts in the table.
        http.Insert(1, (new("points-random-1m", $"points add, random members of {options.MillionMembers:N0}", big, bigWorkload.PointAddRandom,
            Checks.PointsEnvelope), toBig, "points add random, 1M members", CaseKind.Postgres));
        http.Insert(4, (new("card-use-1m", $"card use (useMncard), {options.MillionCards:N0} cards of {options.MillionMembers:N0} members", big,
            bigWorkload.CardUse, Checks.OpenApiEnvelope), toBig, "card use, 1M members", CaseKind.Postgres));
    }
    cases.AddRange(Pgbench.Cases.Select(c => new CaseInfo(c.Key, c.Title, c.Key.Replace("pg-", "pgbench ", StringComparison.Ordinal).Replace('-', ' '), CaseKind.Pgbench)));
    cases.AddRange(http.Select(h => new CaseInfo(h.Case.Key, h.Case.Title, h.Label, h.Kind)));
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
    var hookCases = new List<(string Key, string Title, Func<HttpRequestMessage> Request, ResponseCheck Check)>();
    if (Selected(WebhookPairs.Key))
    {
        receiver = await ReceiverProcess.StartAsync(options);
        Say($"webhook receiver ready at {receiver.Url}");
        hookCases.Add(("points-random", "points add, random members", workload.PointAddRandom, Checks.PointsEnvelope));
        hookCases.Add(("card-use", "card use (useMncard), random cards", workload.CardUse, Checks.OpenApiEnvelope));
        foreach (var (key, title, _, _) in hookCases)
            foreach (var on in new[] { false, true })
                cases.Add(new CaseInfo(on ? WebhookPairs.OnKey(key) : WebhookPairs.OffKey(key), $"{title}, {(on ? "one webhook subscriber" : "no subscriber")}",
                    $"{key}, {(on ? "one subscriber" : "none")}", CaseKind.Postgres));
    }

    for (var round = 1; round <= options.Rounds; round++)
    {
        foreach (var c in Pgbench.Cases.Where(c => Selected(c.Key)))
        {
            var r = await pgbench.RunAsync(c, round);
            results.Add(r);
            Say($"round {round}/{options.Rounds}  {c.Key,-16} {r.Throughput,9:N0} tps    p50 {r.P50Ms,6:0.00} ms  p99 {r.P99Ms,7:0.00} ms  failed {r.Failed}");
        }
        foreach (var (c, connect, _, _) in http.Where(h => Selected(h.Case.Key)))
        {
            var r = await LoadRunner.RunAsync(c, connect, options.Connections, TimeSpan.FromSeconds(options.Warmup), TimeSpan.FromSeconds(options.Duration), round);
            results.Add(r);
            Say($"round {round}/{options.Rounds}  {c.Key,-16} {r.Throughput,9:N0} req/s  p50 {r.P50Ms,6:0.00} ms  p99 {r.P99Ms,7:0.00} ms  failed {r.Failed + r.WarmupFailed}  peak RSS {r.PeakRssMb:0} MB");
            foreach (var (message, count) in r.Failures.Take(3))
                Say($"    {count} × {message}");
        }
        foreach (var p in pairs.Where(p => Selected(p.Key)))
        {
            LoadCase CaseFor(bool on) => new(on ? ExpiryPairs.OnKey(p.Key) : ExpiryPairs.OffKey(p.Key), PairTitle(p.Backend, on), p.Service,
                workload.PointAddRandom, Checks.PointsEnvelope);
            foreach (var r in await expiry.RunRoundAsync(p.Backend, p.Database, CaseFor, p.Connect, options, round, Say))
            {
                results.Add(r);
                Say($"round {round}/{options.Rounds}  {r.Key,-16} {r.Throughput,9:N0} req/s  p50 {r.P50Ms,6:0.00} ms  p99 {r.P99Ms,7:0.00} ms  failed {r.Failed + r.WarmupFailed}");
            }
        }
        foreach (var (key, title, request, check) in hookCases)
        {
            LoadCase CaseFor(bool on) => new(on ? WebhookPairs.OnKey(key) : WebhookPairs.OffKey(key),
                $"{title}, {(on ? "one webhook subscriber" : "no subscriber")}", onPostgres, request, check);
            foreach (var r in await hooks.RunRoundAsync(key, CaseFor, toPostgres, options, receiver!.Url, round, Say))
            {
                results.Add(r);
                Say($"round {round}/{options.Rounds}  {r.Key,-16} {r.Throughput,9:N0} req/s  p50 {r.P50Ms,6:0.00} ms  p99 {r.P99Ms,7:0.00} ms  failed {r.Failed + r.WarmupFailed}");
            }
        }
    }
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException or IOException)
{
    problem = e.Message;
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
    foreach (var name in new[] { "postgres", "postgres-million", "sqlite" })
        if (File.Exists(ServiceProcess.LogPath(options, name)))
            await File.WriteAllBytesAsync(ServiceProcess.KeptLogPath(options, name),
                [.. File.ReadAllBytes(ServiceProcess.LogPath(options, name)).Take(1 << 20)]);
    if (machine is not null && results.Count > 0)
    {
        var report = new Report(options, machine, setup, cases, results) { Million = million, Expiry = expiry, Webhooks = hooks };
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
return problem is null ? 0 : 1;
