using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster from the installed binaries, one per test run, on a free
/// loopback port; each test gets a database of its own. Missing binaries fail the tests
/// rather than skip them: the PostgreSQL half of the suite must always run.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private static readonly Lazy<Task<PostgresCluster>> Shared = new(() => StartAsync(durable: false));

    private readonly string _bin;
    private readonly string _dir;
    private readonly int _port;
    private readonly bool _durable;

    private PostgresCluster(string bin, string dir, int port, bool durable) => (_bin, _dir, _port, _durable) = (bin, dir, port, durable);

    /// <summary>The PostgreSQL 15 binaries: Debian's, unless PATRON_PG_BIN says otherwise.</summary>
    public static string Bin => Environment.GetEnvironmentVariable("PATRON_PG_BIN") ?? "/usr/lib/postgresql/15/bin";

    public static Task<PostgresCluster> GetAsync() => Shared.Value;

    /// <summary>
    /// A cluster of the caller's own, for tests that crash it. Commits are synchronous: a
    /// commit is acknowledged only once its WAL reached the operating system, so an immediate
    /// stop (a crash of PostgreSQL, not of the machine) loses nothing that was acknowledged.
    /// fsync stays off: the machine itself does not crash.
    /// </summary>
    public static Task<PostgresCluster> StartOwnAsync() => StartAsync(durable: true);

    public async ValueTask DisposeAsync()
    {
        await Task.Run(Destroy);
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={_port};Username=postgres;Database={database};Maximum Pool Size=60;Timeout=30;Command Timeout=60";

    /// <summary>A new database, empty or a copy of <paramref name="template"/> (a database no one is connected to).</summary>
    public async Task<string> CreateDatabaseAsync(string? template = null)
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}{(template is null ? "" : " TEMPLATE " + template)}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Crashes the server the way a power cut would, for fault tests.</summary>
    public Task StopImmediateAsync() => PgCtlAsync($"stop -D \"{_dir}\" -m immediate -w");

    public Task StartAgainAsync() => PgCtlAsync(StartArguments());

    private static async Task<PostgresCluster> StartAsync(bool durable)
    {
        var bin = Bin;
        if (!File.Exists(Path.Combine(bin, "initdb")))
            throw new InvalidOperationException($"PostgreSQL binaries not found in {bin}: install postgresql-15 (the tests need a real server).");

        var dir = TestScratch.NewFolder("pg-"); // the run's watchdog stops it once the test host is gone
        var cluster = new PostgresCluster(bin, dir, FreePort(), durable);
        if (Environment.UserName == "root")
            await RunAsync("chown", $"postgres \"{dir}\"");
        await cluster.AsPostgresAsync("initdb", $"-D \"{dir}\" -U postgres -A trust -E UTF8 --locale=C --no-sync");
        await cluster.PgCtlAsync(cluster.StartArguments());
        return cluster;
    }

    // fsync off: these databases are thrown away, and no test crashes the machine.
    private string StartArguments() =>
        $"start -D \"{_dir}\" -l \"{_dir}/server.log\" -w -t 60 -o \"-p {_port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off " +
        $"-c synchronous_commit={(_durable ? "on" : "off")} -c full_page_writes=off -c max_connections=400\"";

    private Task PgCtlAsync(string arguments) => AsPostgresAsync("pg_ctl", arguments);

    private Task AsPostgresAsync(string tool, string arguments) =>
        Environment.UserName == "root"
            ? RunAsync("runuser", $"-u postgres -- {Path.Combine(_bin, tool)} {arguments}")
            : RunAsync(Path.Combine(_bin, tool), arguments);

    /// <summary>Best effort, step by step: a cluster already stopped, or a folder already gone, is no reason to keep the rest.</summary>
    private void Destroy()
    {
        try
        {
            PgCtlAsync($"stop -D \"{_dir}\" -m immediate").Wait(TimeSpan.FromSeconds(20));
        }
        catch (AggregateException)
        {
            // not running
        }
        try
        {
            if (Directory.Exists(_dir))
                Directory.Delete(_dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The run's watchdog removes it with the run's folder.
        }
    }

    private static async Task RunAsync(string file, string arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {arguments} exited {process.ExitCode}: {await stderr}{await stdout}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
