using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Patron.WebhookReceiver;

/// <summary>
/// A webhook subscriber on loopback that writes down every request it gets, flushed to disk
/// before it answers, so that what it wrote survives a SIGKILL of either side: one JSON line per
/// request with its <c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c>, the body
/// (base64, the exact bytes that were signed) and the answer it chose. It misbehaves on request:
/// <code>
/// dotnet WebhookReceiver.dll --port 5099 [--file receipts.jsonl]
///   [--fail-percent 10]     answer 500 to this share of requests
///   [--slow-percent 10]     sleep --slow-ms (default 3000) before answering, past the sender's timeout
///   [--hold-ms 0]           hold every other answer this long, so that a kill of the sender finds requests in flight
///   [--seed N]              the random generator's seed
/// </code>
/// Otherwise it answers 204 at once. Without <c>--file</c> it writes nothing down: a subscriber that
/// costs as little as one can, for the benchmark. The answer is written down before it is sent: a request
/// marked 204 may still have reached its sender after all, or not (the sender was killed).
/// </summary>
public static class Receiver
{
    public static async Task<int> Main(string[] args)
    {
        var options = Options.Parse(args);
        if (options is null)
        {
            Console.Error.WriteLine("usage: WebhookReceiver --port N [--file PATH] [--fail-percent P] [--slow-percent P] [--slow-ms MS] [--hold-ms MS] [--seed N]");
            return 2;
        }

        await using var log = options.File is null ? null : new ReceiptLog(options.File);
        var random = new Random(options.Seed);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenLocalhost(options.Port, l => l.Protocols = HttpProtocols.Http1);
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        app.MapPost("/{**path}", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            int roll;
            lock (random)
                roll = random.Next(100);
            var answer = roll < options.FailPercent ? "500" : roll < options.FailPercent + options.SlowPercent ? "slow" : "204";
            if (log is not null)
                await log.AppendAsync(new Receipt(
                    request.Headers["webhook-id"].ToString(), request.Headers["webhook-timestamp"].ToString(),
                    request.Headers["webhook-signature"].ToString(), Convert.ToBase64String(body.ToArray()), answer,
                    DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            switch (answer)
            {
                case "500":
                    return Results.StatusCode(500);
                case "slow":
                    await Task.Delay(options.SlowMilliseconds);
                    return Results.NoContent();
                default:
                    if (options.HoldMilliseconds > 0)
                        await Task.Delay(options.HoldMilliseconds);
                    return Results.NoContent();
            }
        });
        app.MapGet("/health", () => Results.Ok());
        await app.RunAsync();
        return 0;
    }
}

/// <summary>One request as the receiver got it; <see cref="Body"/> is base64.</summary>
public sealed record Receipt(string Id, string Timestamp, string Signature, string Body, string Answer, long ReceivedAt);

/// <summary>The receipts file: appended one line at a time and flushed to disk before the answer.</summary>
internal sealed class ReceiptLog : IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly SemaphoreSlim _lock = new(1, 1);

    public ReceiptLog(string path)
    {
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        // A receiver killed mid-line left a torn last line: start on a line of its own.
        if (_file.Length > 0 && LastByte(path) != '\n')
        {
            _file.WriteByte((byte)'\n');
            _file.Flush(flushToDisk: true);
        }
    }

    public async Task AppendAsync(Receipt receipt)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(receipt);
        await _lock.WaitAsync();
        try
        {
            await _file.WriteAsync(line);
            _file.WriteByte((byte)'\n');
            _file.Flush(flushToDisk: true);
        }
        finally
        {
            _lock.Release();
        }
    }

    private static int LastByte(string path)
    {
        using var read = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        read.Seek(-1, SeekOrigin.End);
        return read.ReadByte();
    }

    public async ValueTask DisposeAsync() => await _file.DisposeAsync();
}

internal sealed record Options(int Port, string? File, int FailPercent, int SlowPercent, int SlowMilliseconds, int HoldMilliseconds, int Seed)
{
    public static Options? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                return null;
            values[args[i][2..]] = args[i + 1];
        }
        if (args.Length % 2 != 0 || !Int("port", 0, out var port) || port <= 0)
            return null;
        return Int("fail-percent", 0, out var fail) && Int("slow-percent", 0, out var slow) && Int("slow-ms", 3000, out var slowMs)
               && Int("hold-ms", 0, out var hold) && Int("seed", Environment.ProcessId, out var seed) && fail + slow <= 100
            ? new Options(port, values.GetValueOrDefault("file"), fail, slow, slowMs, hold, seed)
            : null;

        bool Int(string name, int fallback, out int value)
        {
            value = fallback;
            return !values.TryGetValue(name, out var text) || (int.TryParse(text, out value) && value >= 0);
        }
    }
}
