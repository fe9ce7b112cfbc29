using System.Globalization;
using Patron.Data;

namespace Patron.Points.Lots;

public enum ExpiryKind { None, AfterDays, AfterMonths }

/// <summary>
/// When a lot's points expire (catalog <c>points.expiry</c>, or a channel's own <c>expiry</c>):
/// never; <c>afterDays</c> N, at the end of the Nth business day after the points became available;
/// or <c>afterMonths</c> N, at the end of the month (or the year) that lies N months after. Days,
/// months and years are the business zone's. Stored as text: "none", "days:N", "months:N:monthEnd",
/// "months:N:yearEnd".
/// </summary>
public sealed record PointsExpiry(ExpiryKind Kind, int Count, bool YearEnd)
{
    public const int MaxDays = 36_600;
    public const int MaxMonths = 1_200;

    public static readonly PointsExpiry Never = new(ExpiryKind.None, 0, false);

    public static PointsExpiry AfterDays(int days) => new(ExpiryKind.AfterDays, days, false);

    public static PointsExpiry AfterMonths(int months, bool yearEnd) => new(ExpiryKind.AfterMonths, months, yearEnd);

    /// <summary>When points that became available at <paramref name="availableAt"/> expire; null, never.</summary>
    public DateTimeOffset? ExpiresAt(DateTimeOffset availableAt, TimeZoneInfo zone)
    {
        if (Kind == ExpiryKind.None)
            return null;
        var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(availableAt, zone).DateTime);
        var lastDay = Kind == ExpiryKind.AfterDays
            ? day.AddDays(Count)
            : YearEnd ? new DateOnly(day.AddMonths(Count).Year, 12, 31)
            : EndOfMonth(day.AddMonths(Count));
        return BusinessZone.Instant(lastDay.AddDays(1).ToDateTime(TimeOnly.MinValue), zone);
    }

    private static DateOnly EndOfMonth(DateOnly day) => new(day.Year, day.Month, DateTime.DaysInMonth(day.Year, day.Month));

    public string ToText() => Kind switch
    {
        ExpiryKind.AfterDays => string.Create(CultureInfo.InvariantCulture, $"days:{Count}"),
        ExpiryKind.AfterMonths => string.Create(CultureInfo.InvariantCulture, $"months:{Count}:{(YearEnd ? "yearEnd" : "monthEnd")}"),
        _ => "none",
    };

    /// <summary>The stored text back; null when it is not one (a setting written by hand).</summary>
    public static PointsExpiry? Parse(string? text)
    {
        if (text is null or "" or "none")
            return Never;
        var parts = text.Split(':');
        if (parts.Length == 2 && parts[0] == "days" && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var days)
            && days is >= 1 and <= MaxDays)
            return AfterDays(days);
        if (parts.Length == 3 && parts[0] == "months" && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var months)
            && months is >= 1 and <= MaxMonths && parts[2] is "monthEnd" or "yearEnd")
            return AfterMonths(months, parts[2] == "yearEnd");
        return null;
    }
}
