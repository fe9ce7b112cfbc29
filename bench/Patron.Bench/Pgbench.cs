using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Patron.Bench;

/// <summary>
/// pgbench against its own database: the minimal transaction of a points add (bench/pgbench/),
/// durable commits, -M prepared, on the same PostgreSQL and settings as the service. The best of a
/// round's cases is that round's per-transaction limit.
/// </summary>
public sealed partial class Pgbench(BenchOptions options)
{
    public const string Database = "pgbench";

    public sealed record Case(string Key, string Title, string Script, int Clients);

    /// <summary>Both scripts at 8, 32 and 128 clients, fewest first; the best of a round is that round's limit.</summary>
    public static readonly Case[] Cases =
    [
        .. new[] { 8, 32, 128 }.SelectMany(clients => new Case[]
        {
            new($"pg-plain-{clients}", $"pgbench: plain statements, {clients} clients", "add-plain.sql", clients),
            new($"pg-function-{clients}", $"pgbench: one function call, {clients} clients", "add-function.sql", clients),
        }),
    ];

    private string Scripts => Path.Combine(options.Repo, "bench", "pgbench");

    public async Task CreateDatabaseAsync()
    {
        await Psql("postgres", "-c", $"CREATE DATABASE {Database}");
        await Psql(Database, "-v", $"members={options.Members}", "-f", Path.Combine(Scripts, "schema.sql"));
    }

    public Task<string> Psql(string database, params string[] arguments) =>
        Tools.RunAsync(Path.Combine(options.PgBin, "psql"),
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", options.PgHost, "-p", options.PgPort.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", database, .. arguments]);

    public async Task<CaseResult> RunAsync(Case c, int round)
    {
        await RunPgbenchAsync(c, options.Warmup, logPrefix: null);
        var machine1 = ProcStat.Machine();
        var postgres1 = ProcStat.PostgresCpuSeconds();
        var prefix = Path.Combine(options.Work, $"pgbench-{c.Key}-{round}");
        var output = await RunPgbenchAsync(c, options.Duration, prefix);
        var machine2 = ProcStat.Machine();
        var postgres2 = ProcStat.PostgresCpuSeconds();

        var tps = double.Parse(TpsLine().Match(output) is { Success: true } m ? m.Groups[1].Value
            : throw new InvalidOperationException($"no tps in pgbench's output:\n{output}"), CultureInfo.InvariantCulture);
        var failed = FailedLine().Match(output) is { Success: true } f ? long.Parse(f.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        var latencies = ReadLatencies(prefix);
        return new CaseResult(c.Key, round, tps, LoadRunner.Percentile(latencies, 0.50), LoadRunner.Percentile(latencies, 0.99),
            latencies.LongLength, failed, 0, null, null, null, double.NaN,
            100 * (machine2.Busy - machine1.Busy) / (machine2.Total - machine1.Total), 0, 0, new Dictionary<string, long>())
        {
            PostgresCpuUsPerRequest = latencies.LongLength == 0 ? null : (postgres2 - postgres1) / latencies.LongLength * 1e6,
        };
    }

    private Task<string> RunPgbenchAsync(Case c, int seconds, string? logPrefix)
    {
        List<string> arguments =
        [
            "-n", "-M", "prepared", "-c", c.Clients.ToString(CultureInfo.InvariantCulture), "-j", "2",
            "-T", seconds.ToString(CultureInfo.InvariantCulture), "-D", $"members={options.Members}",
            "-f", Path.Combine(Scripts, c.Script),
            "-h", options.PgHost, "-p", options.PgPort.ToString(CultureInfo.InvariantCulture), "-U", "postgres",
        ];
        if (logPrefix is not null)
            arguments.AddRange(["-l", "--log-prefix", logPrefix]);
        arguments.Add(Database);
        return Tools.RunAsync(Path.Combine(options.PgBin, "pgbench"), arguments);
    }

    /// <summary>Per-transaction latencies from pgbench's logs (third field, microseconds), as sorted Stopwatch ticks.</summary>
    private static long[] ReadLatencies(string prefix)
    {
        var folder = Path.GetDirectoryName(prefix)!;
        var files = Directory.GetFiles(folder, Path.GetFileName(prefix) + ".*");
        var ticks = new List<long>();
        foreach (var file in files)
        {
            foreach (var line in File.ReadLines(file))
            {
                var fields = line.Split(' ');
                if (fields.Length > 2 && long.TryParse(fields[2], CultureInfo.InvariantCulture, out var us))
                    ticks.Add(us * Stopwatch.Frequency / 1_000_000);
            }
            File.Delete(file);
        }
        var sorted = ticks.ToArray();
        Array.Sort(sorted);
        return sorted;
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex TpsLine();

    [GeneratedRegex(@"number of failed transactions: (\d+)")]
    private static partial Regex FailedLine();
}

public static class Tools
{
    /// <summary>Runs a program to its end; its standard output, or an exception with both outputs when it fails.</summary>
    public static async Task<string> RunAsync(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', start.ArgumentList)} exited {process.ExitCode}:\n{await stderr}{await stdout}");
        return await stdout;
    }
}
