using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Patron.Bench;

/// <summary>
/// The service under test, as its own process (`dotnet Patron.dll`, Release), on a free loopback
/// port. Its output goes to a log file; warning and error lines are counted, so that a case can
/// say whether the service complained while it ran.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();
    private int _warnings;
    private int _errors;

    private ServiceProcess(string name, Process process, StreamWriter log, Uri url) =>
        (Name, _process, _log, Url) = (name, process, log, url);

    public string Name { get; }
    public Uri Url { get; }
    public int Pid => _process.Id;
    public TimeSpan StartupTime { get; private set; }
    public int Warnings => Volatile.Read(ref _warnings);
    public int Errors => Volatile.Read(ref _errors);

    /// <summary>The first error lines of the log with what was running then, to quote in the report.</summary>
    public List<string> FirstErrors { get; } = [];

    /// <summary>What the service is doing now ("start-up", a case and round), for the error lines.</summary>
    public string Phase { get; set; } = "start-up";

    /// <param name="dll">Another build than <see cref="BenchOptions.PatronDll"/>: <see cref="BenchOptions.Baseline"/>.</param>
    public static async Task<ServiceProcess> StartAsync(string name, BenchOptions options, IEnumerable<string> arguments,
        string workingDirectory, TimeSpan timeout, string? dll = null)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll ?? options.PatronDll);
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(url.ToString().TrimEnd('/'));
        // Logging is not what is measured; warnings and errors still show.
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        // One channel sends all the load: the per-channel rate limit would be what is measured.
        start.Environment["RateLimit__PermitsPerSecond"] = "0";
        start.Environment.Remove("storage");
        start.Environment.Remove("connection");
        start.Environment.Remove("catalog");
        foreach (var (variable, value) in options.ServiceEnv)
            start.Environment[variable] = value;

        var log = new StreamWriter(LogPath(options, name)) { AutoFlush = true };
        var clock = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        // bench/run kills whatever is listed here if this program itself dies.
        await File.AppendAllTextAsync(Path.Combine(options.Work, "pids"), $"{process.Id}\n");
        var service = new ServiceProcess(name, process, log, url);
        process.OutputDataReceived += (_, e) => service.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => service.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await WaitHealthyAsync(name, options, process, url, clock, timeout);
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
        service.StartupTime = clock.Elapsed;
        return service;
    }

    private static async Task WaitHealthyAsync(string name, BenchOptions options, Process process, Uri url, Stopwatch clock, TimeSpan timeout)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"the {name} service exited with {process.ExitCode} during start-up; its output: {KeptLogPath(options, name)}");
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"the {name} service did not answer /health with 200 within {timeout.TotalSeconds:0} s");
            try
            {
                using var health = await probe.GetAsync(new Uri(url, "/health"));
                if (health.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
    }

    public static string LogPath(BenchOptions options, string name) => Path.Combine(options.Work, $"service-{name}.log");

    /// <summary>Where the log is kept after the run (the work folder is removed).</summary>
    public static string KeptLogPath(BenchOptions options, string name) => Path.Combine(options.Out, $"latest-service-{name}.log");

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (_logLock)
            _log.WriteLine(line);
        // The console logger's level prefixes.
        if (line.StartsWith("warn:", StringComparison.Ordinal))
            Interlocked.Increment(ref _warnings);
        var error = line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal);
        if (error)
            Interlocked.Increment(ref _errors);
        lock (FirstErrors)
        {
            // An error line names the category; the message and the exception follow on the next lines.
            if (error && FirstErrors.Count < 5)
            {
                FirstErrors.Add($"({Phase}) {line.Trim()}");
                (_quoting, _quoted) = (FirstErrors.Count - 1, 1);
            }
            else if (_quoting >= 0)
            {
                FirstErrors[_quoting] += " | " + line.Trim();
                if (++_quoted == 4)
                    _quoting = -1;
            }
        }
    }

    private int _quoting = -1;
    private int _quoted;

    /// <summary>Resets the kernel's peak resident set size (VmHWM) to the current size.</summary>
    public void ResetPeakRss() => File.WriteAllText($"/proc/{Pid}/clear_refs", "5");

    public double PeakRssMb() => StatusKb("VmHWM:") / 1024.0;

    /// <summary>User plus system CPU time of the process, in seconds.</summary>
    public double CpuSeconds() => ProcStat.CpuSeconds(Pid);

    private long StatusKb(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return 0;
    }

    /// <summary>Stops the service at once (Ctrl-C, a kill of the benchmark); safe to call from a signal handler.</summary>
    public void Kill() => KillTree(_process);

    /// <summary>Kills a process of the benchmark's and its children, if it is still there.</summary>
    public static void KillTree(Process process)
    {
        try
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        lock (_logLock)
            _log.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>CPU counters from /proc.</summary>
public static class ProcStat
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name, which is in parentheses and may hold spaces: utime is the 14th field, stime the 15th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>The benchmark's PostgreSQL data folder, whose postmaster.pid names the cluster's first process; set once at start.</summary>
    public static string? PostgresData { get; set; }

    /// <summary>The cluster's postmaster, or null when there is none (yet).</summary>
    public static int? Postmaster()
    {
        var pidFile = PostgresData is null ? null : Path.Combine(PostgresData, "postmaster.pid");
        return pidFile is not null && File.Exists(pidFile)
            && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    /// <summary>
    /// CPU seconds of the postmaster and its children (backends, WAL writer, checkpointer, autovacuum),
    /// live or exited (the postmaster reaps its backends: pgbench's, at the end of each run), or null
    /// when there is no cluster.
    /// </summary>
    public static double? PostgresCpuSeconds()
    {
        if (Postmaster() is not { } postmaster)
            return null;
        var ticks = 0L;
        foreach (var (pid, p) in Processes())
            if (pid == postmaster)
                ticks += p.Ticks + p.ReapedTicks;
            else if (p.Parent == postmaster)
                ticks += p.Ticks;
        return ticks / TicksPerSecond;
    }

    /// <summary>A process's name, parent, CPU ticks (user + system, all its threads), its reaped children's, and start time.</summary>
    public readonly record struct Proc(string Name, int Parent, long Ticks, long ReapedTicks, long Started);

    /// <summary>Every process, from /proc/[pid]/stat.</summary>
    public static Dictionary<int, Proc> Processes()
    {
        var inv = CultureInfo.InvariantCulture;
        var all = new Dictionary<int, Proc>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, inv, out var pid))
                continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                var name = stat[(stat.IndexOf('(') + 1)..close];
                // Fields after the name: ppid is the 4th of the line, utime/stime the 14th/15th, cutime/cstime the 16th/17th, starttime the 22nd.
                var fields = stat[(close + 2)..].Split(' ');
                all[pid] = new Proc(name, int.Parse(fields[1], inv), long.Parse(fields[11], inv) + long.Parse(fields[12], inv),
                    long.Parse(fields[13], inv) + long.Parse(fields[14], inv), long.Parse(fields[19], inv));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // Gone between the listing and the read.
            }
        }
        return all;
    }

    /// <summary>The whole machine's (busy, total) CPU time in seconds, summed over cores.</summary>
    public static (double Busy, double Total) Machine()
    {
        var first = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var ticks = first.Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = ticks.Sum();
        var idle = ticks[3] + ticks[4]; // idle + iowait
        return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
    }
}
