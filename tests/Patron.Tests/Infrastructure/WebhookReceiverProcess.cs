using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// The webhook receiver (<c>tests/WebhookReceiver</c>) as a process of its own on a loopback port
/// that stays the same across <see cref="KillAsync"/> and <see cref="StartAsync"/>, so the
/// subscription's URL holds through its crashes. Every request it got is in <see cref="FilePath"/>.
/// </summary>
public sealed class WebhookReceiverProcess(string filePath, params string[] settings) : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    public int Port { get; } = PatronProcess.FreePort();
    public string FilePath => filePath;
    public Uri Url => new($"http://127.0.0.1:{Port}/hooks/patron");
    public int Starts { get; private set; }

    /// <summary>Starts the receiver and waits until it listens.</summary>
    public async Task StartAsync()
    {
        if (_process is { HasExited: false })
            throw new InvalidOperationException("already running");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "WebhookReceiver.dll"),
                     "--port", Port.ToString(), "--file", filePath, .. settings])
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the receiver");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Starts++;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillQuietly(process);

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"the receiver exited with {process.ExitCode}:\n{string.Join('\n', _output)}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException("the receiver did not listen within 30 s");
    }

    /// <summary>SIGKILL: requests in flight are cut off; what it wrote down before is on disk.</summary>
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

    /// <summary>The requests written down so far, in the order they arrived (a torn last line left out).</summary>
    public IReadOnlyList<WebhookReceipt> Receipts() => WebhookReceipt.Read(filePath);

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

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        while (_output.Count > 100)
            _output.TryDequeue(out _);
    }

    public async ValueTask DisposeAsync() => await KillAsync();
}
