using System.Diagnostics;
using System.Globalization;

namespace Patron.Bench;

/// <summary>The webhook receiver (tests/WebhookReceiver, built beside the benchmark) as a process on a free loopback port.</summary>
public sealed class ReceiverProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ReceiverProcess(Process process, Uri url) => (_process, Url) = (process, url);

    public Uri Url { get; }

    public static async Task<ReceiverProcess> StartAsync(BenchOptions options)
    {
        var port = ServiceProcess.FreePort();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "WebhookReceiver.dll"), "--port", port.ToString(CultureInfo.InvariantCulture)])
            start.ArgumentList.Add(a);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the webhook receiver");
        await File.AppendAllTextAsync(Path.Combine(options.Work, "pids"), $"{process.Id}\n");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var receiver = new ReceiverProcess(process, new Uri($"http://127.0.0.1:{port}/hooks/bench"));
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var answer = await probe.PostAsync(receiver.Url, new StringContent("{}"));
                if (answer.IsSuccessStatusCode)
                    return receiver;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                await receiver.DisposeAsync();
                throw new InvalidOperationException("the webhook receiver did not answer within 60 s");
            }
            await Task.Delay(200);
        }
    }

    public void Kill() => ServiceProcess.KillTree(_process);

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
