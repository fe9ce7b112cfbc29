using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Patron.Channels;

/// <summary><c>--RateLimit:PermitsPerSecond</c> and <c>--RateLimit:Burst</c>, per channel and per instance.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Calls a channel may make per second, sustained; 0 turns rate limiting off.</summary>
    public int PermitsPerSecond { get; set; } = 200;

    /// <summary>Calls a channel may make at once after a quiet spell (the bucket's size); 0 means PermitsPerSecond.</summary>
    public int Burst { get; set; } = 400;
}

/// <summary>
/// A token bucket per channel. It lives in this instance's memory, so N instances together allow
/// N times the rate: it protects an instance from a runaway partner; it is not a billing quota.
/// The handlers ask it once they know the channel (a valid bearer key, or an envelope that
/// decrypted with the channel's key), so nobody else can spend a channel's allowance.
/// </summary>
public sealed class ChannelRateLimiter(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly RateLimitOptions _options = options.Value;
    private readonly ConcurrentDictionary<int, Lazy<TokenBucketRateLimiter>> _buckets = new();

    /// <summary>Null when the call may go ahead; else the failure, with Retry-After set on the response.</summary>
    public Failure? TryAcquire(Channel channel, HttpResponse response)
    {
        var perSecond = _options.PermitsPerSecond;
        if (perSecond <= 0)
            return null;
        var bucket = _buckets.GetOrAdd(channel.Id, _ => new Lazy<TokenBucketRateLimiter>(NewBucket)).Value;
        using var lease = bucket.AttemptAcquire();
        if (lease.IsAcquired)
            return null;
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
        response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        return new Failure(ErrorCode.RateLimited, $"channel {channel.Name} is over its rate limit of {perSecond} calls per second; retry after {retryAfter} s");
    }

    private TokenBucketRateLimiter NewBucket()
    {
        var perSecond = _options.PermitsPerSecond;
        // Refill about ten times a second, in whole tokens, at exactly perSecond on average.
        var perTick = Math.Max(1, perSecond / 10);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = _options.Burst > 0 ? _options.Burst : perSecond,
            TokensPerPeriod = perTick,
            ReplenishmentPeriod = TimeSpan.FromSeconds((double)perTick / perSecond),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    public void Dispose()
    {
        foreach (var bucket in _buckets.Values.Where(b => b.IsValueCreated))
            bucket.Value.Dispose();
    }
}
