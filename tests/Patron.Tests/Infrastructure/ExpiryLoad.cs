using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Patron.Tests.Infrastructure;

/// <summary>One Point/Add the clients sent: its member, type and value.</summary>
public sealed record SentChange(long MemberId, string BusiType, long ChangeValue);

/// <summary>
/// Partners earning and spending points while lots expire: each client adds (P, +1 to +5) or
/// spends (E, -1 to -8) for a random member, each request with its own Idempotency-Key, and
/// retries every unanswered request with the same key and body until it is answered: 0, or 2201
/// when the balance is short. It remembers what it sent and every final answer, for checking the
/// ledger afterwards.
/// </summary>
public sealed class ExpiryLoad : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients = [];

    public ExpiryLoad(Uri target) => _http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(2) })
    {
        BaseAddress = target, Timeout = TimeSpan.FromSeconds(10),
    };

    public ConcurrentDictionary<string, SentChange> Sent { get; } = new();

    /// <summary>Each key's final answer: its errcode and, when 0, the AutoId of its ledger row.</summary>
    public ConcurrentDictionary<string, (int Errcode, long AutoId)> Answers { get; } = new();

    public int Attempts => _attempts;

    public int Unanswered => _unanswered;

    private int _attempts;
    private int _unanswered;

    public void Start(int clients, int members)
    {
        for (var c = 0; c < clients; c++)
        {
            var client = c;
            _clients.Add(Task.Run(() => RunClientAsync(client, members)));
        }
    }

    /// <summary>Stops sending new requests and waits until every request sent has been answered.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
    }

    private async Task RunClientAsync(int client, int members)
    {
        var random = new Random(1000 + client);
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            var key = $"x{client}-{n}";
            var spend = random.Next(10) < 4;
            var change = new SentChange(random.Next(1, members + 1), spend ? "E" : "P", spend ? -random.Next(1, 9) : random.Next(1, 6));
            Sent[key] = change;
            var body = JsonSerializer.SerializeToUtf8Bytes(new { change.MemberId, change.BusiType, BusiBillNum = key, change.ChangeValue });
            Answers[key] = await UntilAnsweredAsync(body, key);
        }
    }

    /// <summary>Sends the same bytes until an answer that is not "try again" comes back; gives up after 90 s.</summary>
    private async Task<(int, long)> UntilAnsweredAsync(byte[] body, string key)
    {
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            Interlocked.Increment(ref _attempts);
            using var request = new HttpRequestMessage(HttpMethod.Post, PointsWireClient.PointAdd) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.Authorization = new("Bearer", TestCatalog.ApiKey);
            request.Headers.Add("Idempotency-Key", key);
            try
            {
                using var response = await _http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                var json = JsonNode.Parse(text)!;
                var code = json["errcode"]!.GetValue<int>();
                if (code == 0)
                    return (0, json["tag"]!["AutoId"]!.GetValue<long>());
                if (code == 2201)
                    return (code, 0);
                if (code != 5000 || response.StatusCode != HttpStatusCode.ServiceUnavailable)
                    throw new InvalidOperationException($"{key}: HTTP {(int)response.StatusCode} {text}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                Interlocked.Increment(ref _unanswered);
            }
            if (DateTime.UtcNow > giveUp)
                throw new TimeoutException($"{key} unanswered for 90 s");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
            await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_clients);
        }
        catch (Exception)
        {
            // the test has already failed on it
        }
        _http.Dispose();
        _stop.Dispose();
    }
}
