namespace Patron.Channels;

/// <summary>A partner system calling Patron: a POS, a ticketing system, a mini-program.</summary>
public sealed class Channel
{
    public int Id { get; set; }
    public required string Name { get; set; }

    /// <summary>SHA-256 (hex) of the bearer API key; the key itself is never stored.</summary>
    public required string ApiKeyHash { get; set; }

    /// <summary>The open API's symmetric key (DES uses its first 8 bytes), encrypted: read it with <see cref="ChannelSecrets"/>.</summary>
    public required string DesKey { get; set; }

    public required string Cipher { get; set; }

    /// <summary>Space-separated scopes such as "points.add card.sale".</summary>
    public required string Scopes { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// A Point/Add without an Idempotency-Key takes (channel, BusiType, BusiBillNum) as its key: for
    /// seed clients that retry without one. A channel that posts one bill twice on purpose keeps it off.
    /// </summary>
    public bool BillNumIsKey { get; set; }

    /// <summary>How many days back a card use's useTime may be: a POS that was offline replays its uses late.</summary>
    public int MaxUseAgeDays { get; set; } = DefaultMaxAgeDays;

    /// <summary>How many days back a card sale's saleTime may be.</summary>
    public int MaxSaleAgeDays { get; set; } = DefaultMaxAgeDays;

    /// <summary>The channel's own rate limit; null takes the service's default.</summary>
    public int? RatePerSecond { get; set; }

    /// <summary>The channel's own burst; null takes the service's default (or RatePerSecond when that is set).</summary>
    public int? RateBurst { get; set; }

    /// <summary>How many days this channel's positive changes wait, pending, before they count; 0, not at all.</summary>
    public int PendingDays { get; set; }

    /// <summary>When this channel's points expire, overriding the catalog's <c>points.expiry</c> (see PointsExpiry); null, the catalog's.</summary>
    public string? Expiry { get; set; }

    /// <summary>A month offline.</summary>
    public const int DefaultMaxAgeDays = 31;

    public bool HasScope(string scope) => Scopes.Split(' ').Contains(scope);
}
