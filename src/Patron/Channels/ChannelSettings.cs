namespace Patron.Channels;

/// <summary>
/// The limits of a channel's own settings, one rule for the catalog, /api/v1 and the console: the
/// age bounds may only tighten the service's month; a rate limit names its perSecond.
/// </summary>
public static class ChannelSettings
{
    public const int MinAgeDays = 1;
    public const int MaxAgeDays = Channel.DefaultMaxAgeDays;
    public const int MaxRate = 100_000;

    /// <summary>Each problem keyed by its field: maxUseAgeDays, maxSaleAgeDays, rateLimit.perSecond, rateLimit.burst.</summary>
    public static Dictionary<string, string> Check(int? maxUseAgeDays, int? maxSaleAgeDays, int? perSecond, int? burst)
    {
        var problems = new Dictionary<string, string>();
        if (maxUseAgeDays is < MinAgeDays or > MaxAgeDays)
            problems["maxUseAgeDays"] = $"{MinAgeDays} to {MaxAgeDays}";
        if (maxSaleAgeDays is < MinAgeDays or > MaxAgeDays)
            problems["maxSaleAgeDays"] = $"{MinAgeDays} to {MaxAgeDays}";
        if (perSecond is < 1 or > MaxRate || (perSecond is null && burst is not null))
            problems["rateLimit.perSecond"] = $"required with a burst, 1 to {MaxRate}";
        if (burst is < 1 or > MaxRate)
            problems["rateLimit.burst"] = $"1 to {MaxRate}";
        return problems;
    }
}
