using Patron.Points.Lots;

namespace Patron.Channels;

/// <summary>
/// The limits of a channel's own settings, one rule for the catalog, /api/v1 and the console: the
/// age bounds may only tighten the service's month; a rate limit names its perSecond; points wait
/// at most a quarter, pending. A channel's expiry is PointsExpiry's text, or none for the catalog's.
/// </summary>
public static class ChannelSettings
{
    public const int MinAgeDays = 1;
    public const int MaxAgeDays = Channel.DefaultMaxAgeDays;
    public const int MaxRate = 100_000;
    public const int MaxPendingDays = 90;

    /// <summary>Each problem keyed by its field: maxUseAgeDays, maxSaleAgeDays, rateLimit.perSecond, rateLimit.burst, pendingDays.</summary>
    public static Dictionary<string, string> Check(int? maxUseAgeDays, int? maxSaleAgeDays, int? perSecond, int? burst, int? pendingDays = null)
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
        if (pendingDays is < 0 or > MaxPendingDays)
            problems["pendingDays"] = $"0 to {MaxPendingDays} (0: the points count at once)";
        return problems;
    }

    public static readonly string ExpiryHint = $"none, days:N (N 1 to {PointsExpiry.MaxDays}), months:N:monthEnd or months:N:yearEnd "
        + $"(N 1 to {PointsExpiry.MaxMonths}), or empty for the catalog's";

    /// <summary>
    /// An expiry typed by an operator, as the channel stores it: null for empty (the catalog's), else
    /// PointsExpiry's own text ("days:0365" is stored "days:365"). False when it is none of these.
    /// </summary>
    public static bool TryParseExpiry(string text, out string? stored)
    {
        stored = null;
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
            return true;
        // Number parsing lets a trailing NUL through; text with a control character is not an expiry.
        if (trimmed.Any(char.IsControl) || PointsExpiry.Parse(trimmed) is not { } expiry)
            return false;
        stored = expiry.ToText();
        return true;
    }
}
