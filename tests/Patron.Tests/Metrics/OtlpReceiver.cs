using System.Net;
using System.Net.Sockets;

namespace Patron.Tests.Metrics;

/// <summary>A stand-in OTLP collector over HTTP (http/protobuf): keeps each request's path and body, answers 200 with an empty response.</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;
    private readonly List<(string Path, byte[] Body)> _received = [];

    public OtlpReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public string Url { get; }

    public IReadOnlyList<(string Path, Body Body)> Received
    {
        get
        {
            lock (_received)
                return [.. _received.Select(r => (r.Path, new Body(r.Body)))];
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            lock (_received)
                _received.Add((context.Request.Url!.AbsolutePath, body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving;
    }

    /// <summary>A received body, searchable for the bytes of a name.</summary>
    public sealed class Body(byte[] bytes)
    {
        public bool Contains(byte[] part) => bytes.AsSpan().IndexOf(part) >= 0;
    }
}
