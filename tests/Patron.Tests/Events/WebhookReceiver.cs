using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Patron.Tests.Events;

/// <summary>A subscriber's server on loopback, recording every request it gets and answering as the test says.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Received(string Path, string Id, long Timestamp, string Signature, string? ContentType, string Body);

    private readonly WebApplication _app;

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>The status to answer a request with; it may wait first, to look like a receiver that hangs.</summary>
    public Func<Received, Task<int>> Answer { get; set; } = _ => Task.FromResult(200);

    public string BaseUrl { get; }

    private WebhookReceiver(WebApplication app, string url) => (_app, BaseUrl) = (app, url.TrimEnd('/'));

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.MapPost("/{**path}", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var h = http.Request.Headers;
            var received = new Received(http.Request.Path, h["webhook-id"].ToString(),
                long.TryParse(h["webhook-timestamp"].ToString(), out var t) ? t : -1, h["webhook-signature"].ToString(), http.Request.ContentType, body);
            receiver!.Requests.Enqueue(received);
            var status = await receiver.Answer(received);
            return Results.Text($"answer {status}", statusCode: status);
        });
        await app.StartAsync();
        receiver = new WebhookReceiver(app, app.Urls.Single());
        return receiver;
    }

    public List<Received> At(string path) => [.. Requests.Where(r => r.Path == path)];

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
