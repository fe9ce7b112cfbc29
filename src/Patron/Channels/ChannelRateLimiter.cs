using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Patron.Metrics;

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
/// decrypted with the channel's key), so nobody else can spend a channel's allowance. A channel's
/// own rateLimit overrides the service's default; a bucket is kept with the limit it was made for,
/// so a changed limit gets a new bucket on the channel's next call.
/// </summary>
public sealed class ChannelRateLimiter(IOptions<RateLimitOptions> options) : IDisposable
{
    private sealed record Bucket(RateLimit Limit, TokenBucketRateLimiter Limiter);

    private readonly RateLimitOptions _options = options.Value;
    private readonly ConcurrentDictionary<int, Bucket> _buckets = new();
    private readonly Lock _swap = new();

    /// <summary>The limit that applies to the channel: its own, else the service's; PerSecond 0 is no limit.</summary>
    public RateLimit LimitFor(Channel channel)
    {
        var perSecond = channel.RatePerSecond ?? _options.PermitsPerSecond;
        var burst = channel.RateBurst
            ?? (channel.RatePerSecond is { } own ? own : _options.Burst > 0 ? _options.Burst : perSecond);
        return new RateLimit(perSecond, burst);
    }

    /// <summary>Null when the call may go ahead; else the failure, with Retry-After set on the response.</summary>
    public Failure? TryAcquire(Channel channel, HttpResponse response)
    {
        var limit = LimitFor(channel);
        if (limit.PerSecond <= 0)
            return null;
        RateLimitLease lease;
        try
        {
            lease = BucketFor(channel.Id, limit).AttemptAcquire();
        }
        catch (ObjectDisposedException)
        {
            lease = BucketFor(channel.Id, limit).AttemptAcquire(); // its limit changed while this call held the old bucket
        }
        using (lease)
        {
            if (lease.IsAcquired)
                return null;
            PatronMetrics.RateLimited(channel.Name);
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
            response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            return new Failure(ErrorCode.RateLimited,
                $"channel {channel.Name} is over its rate limit of {limit.PerSecond} calls per second; retry after {retryAfter} s");
        }
    }

    private TokenBucketRateLimiter BucketFor(int channelId, RateLimit limit)
    {
        if (_buckets.TryGetValue(channelId, out var bucket) && bucket.Limit == limit)
            return bucket.Limiter;
        lock (_swap)
        {
            if (_buckets.TryGetValue(channelId, out bucket) && bucket.Limit == limit)
                return bucket.Limiter;
            _buckets[channelId] = new Bucket(limit, NewLimiter(limit));
            bucket?.Limiter.Dispose();
            return _buckets[channelId].Limiter;
        }
    }

    private static TokenBucketRateLimiter NewLimiter(RateLimit limit)
    {
        // Refill about ten times a second, in whole tokens, at exactly perSecond on average.
        var perTick = Math.Max(1, limit.PerSecond / 10);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.Burst,
            TokensPerPeriod = perTick,
            ReplenishmentPeriod = TimeSpan.FromSeconds((double)perTick / limit.PerSecond),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    public void Dispose()
    {
        foreach (var bucket in _buckets.Values)
            bucket.Limiter.Dispose();
    }
}

/// <summary>A rate limit: calls per second, sustained, and the most at once after a quiet spell.</summary>
public readonly record struct RateLimit(int PerSecond, int Burst);
