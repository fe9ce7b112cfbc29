using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// Patron as an operating-system process on a loopback port, started the way an operator
/// starts it (<c>dotnet Patron.dll --storage … --connection …</c>), for tests that kill it.
/// The port stays the same across <see cref="KillAsync"/> and <see cref="StartAsync"/>, so
/// clients keep their base address through a crash.
/// </summary>
public sealed class PatronProcess(string storage, string connection, string catalogPath, params string[] settings) : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    public int Port { get; } = FreePort();
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    /// <summary>The running process's id, to tell a restarted service from one that rode a fault out.</summary>
    public int ProcessId => _process?.Id ?? 0;

    public int Starts { get; private set; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the service and waits until <c>/health</c> answers 200 (or, <paramref name="healthy"/> false, not at all).</summary>
    public async Task StartAsync(bool healthy = true)
    {
        if (_process is { HasExited: false })
            throw new InvalidOperationException("already running");
        var dll = Path.Combine(AppContext.BaseDirectory, "Patron.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in (string[])["exec", dll, "--storage", storage, "--connection", connection, "--catalog", catalogPath,
                     "--urls", BaseAddress.ToString(), "--contentRoot", AppContext.BaseDirectory, "--Logging:LogLevel:Default", "Warning",
                     .. settings])
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start Patron");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Starts++;
        // A test run that is cut short must not leave services behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillQuietly(process);
        if (!healthy)
            return;

        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"Patron exited with {process.ExitCode} at start-up:\n{Output}");
            try
            {
                using var health = await http.GetAsync("/health");
                if (health.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"Patron did not become healthy within 60 s:\n{Output}");
    }

    /// <summary>SIGKILL: no shutdown, no flushing, in-flight requests cut off mid-way.</summary>
    public async Task KillAsync()
    {
        if (_process is not { } process)
            return;
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        _process = null;
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // already gone
        }
    }

    /// <summary>The last lines the service printed, for a failing test's message.</summary>
    public string Output => string.Join('\n', _output);

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        while (_output.Count > 200)
            _output.TryDequeue(out _);
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
