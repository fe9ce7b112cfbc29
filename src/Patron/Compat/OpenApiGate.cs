using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Patron.Channels;

namespace Patron.Compat;

/// <summary>A call that passed the gate: the channel that made it, and its decrypted param.</summary>
public sealed record OpenApiCall(Channel Channel, WireFields Param);

/// <summary>
/// The open API's envelope <c>{channel, timestamp, param}</c>, checked in the order that tells a
/// caller no more than it may know: the channel, the clock, then the key (decryption), and only
/// then the method's scope and the channel's rate limit, so that a stranger who knows a channel's
/// name learns nothing of its scopes.
/// </summary>
public sealed class OpenApiGate(ChannelDirectory channels, IOptions<OpenApiOptions> options, ChannelSecrets secrets, ChannelRateLimiter limiter,
    TimeProvider clock)
{
    /// <param name="scope">The method's scope; null for a method that does not exist, refused once the clock is checked.</param>
    public async Task<Outcome<OpenApiCall>> OpenAsync(HttpContext http, string? scope, CancellationToken ct)
    {
        var body = await WireBody.ReadAsync(http.Request, "envelope", ct);
        if (body.Failure is { } malformed)
            return malformed;
        var envelope = new WireFields(body.Value!);
        var channelName = envelope.String("channel", 64);
        var timestampText = envelope.String("timestamp", 20);
        var param = envelope.String("param", WireBody.MaxBytes);
        if (envelope.Error is { } invalid)
            return invalid;

        var channel = await channels.ByNameAsync(channelName, ct);
        if (channel is null)
            return new Failure(ErrorCode.UnknownChannel, $"unknown channel {channelName}");
        if (!long.TryParse(timestampText, out var timestamp))
            return Failure.Invalid("timestamp", "epoch milliseconds");
        var window = options.Value.TimestampWindowSeconds;
        if (Math.Abs(clock.GetUtcNow().ToUnixTimeMilliseconds() - timestamp) > window * 1000L)
            return new Failure(ErrorCode.TimestampOutsideWindow, $"timestamp is more than {window} s from the server clock");
        if (scope is null)
            return Failure.Invalid("method", $"unknown method {http.Request.RouteValues["method"]}");
        if (Decrypt(channel, param, channelName, timestampText) is not { } json)
            return new Failure(ErrorCode.CannotDecrypt, "param cannot be decrypted with the channel's key");
        if (!channel.HasScope(scope))
            return new Failure(ErrorCode.ScopeNotGranted, $"channel {channel.Name} does not have the scope {scope}");
        // Counted only once the key has proved the caller, so that nobody else can spend a channel's allowance.
        if (limiter.TryAcquire(channel, http.Response) is { } limited)
            return limited;
        return new OpenApiCall(channel, new WireFields(json));
    }

    private JsonObject? Decrypt(Channel channel, string param, string channelName, string timestampText)
    {
        var plaintext = OpenApiCipher.Decrypt(channel.Cipher, secrets.DesKey(channel), param, channelName, timestampText);
        try
        {
            var parsed = plaintext is null ? null : JsonNode.Parse(plaintext, new JsonNodeOptions { PropertyNameCaseInsensitive = true },
                new JsonDocumentOptions { MaxDepth = 16 }) as JsonObject;
            WireBody.ReadFully(parsed); // a name given twice, or a bad string, is refused here rather than inside a method
            return parsed;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }
}
