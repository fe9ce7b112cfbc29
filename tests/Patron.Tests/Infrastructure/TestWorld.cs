using System.Diagnostics;
using System.Globalization;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// The clock of every in-process host unless a test brings its own. The tests' cards are sold on
/// Monday 2026-01-05 and used through their 30 days; a channel takes calls at most 31 days late
/// and 5 minutes early, so the tests live on 2026-02-04 at 12:30 in Shanghai, and the clock ticks
/// from there. Hosts in another process, and the browser tests, keep the system clock.
/// </summary>
public sealed class TestWorld : TimeProvider
{
    public static readonly DateTimeOffset Start = new(2026, 2, 4, 12, 30, 0, TimeSpan.FromHours(8));

    public static TestWorld Clock { get; } = new();

    private static readonly long Started = Stopwatch.GetTimestamp();

    public override DateTimeOffset GetUtcNow() => Start.ToUniversalTime() + Stopwatch.GetElapsedTime(Started);

    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    /// <summary>The Shanghai calendar day of an instant, at 00:00.</summary>
    public static DateTime LocalDate(DateTimeOffset t) => TimeZoneInfo.ConvertTime(t, Shanghai).Date;

    /// <summary>A time as a partner writes it (<c>yyyy-MM-dd HH:mm:ss</c>, Shanghai) on a given clock.</summary>
    public static string Local(DateTimeOffset t) =>
        TimeZoneInfo.ConvertTime(t, Shanghai).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
