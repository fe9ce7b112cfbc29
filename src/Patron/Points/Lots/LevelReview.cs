using Patron.Data;

namespace Patron.Points.Lots;

/// <summary>
/// Catalog <c>levelReview {everyMonths}</c>: on each anniversary of a member's last level change
/// their level is set, down as well as up, by the points they earned in the months before it.
/// </summary>
public static class LevelReview
{
    public const int MaxMonths = 120;

    /// <summary>
    /// The latest anniversary of <paramref name="since"/> at or before <paramref name="now"/>, stepping
    /// <paramref name="everyMonths"/> business months at a time; null when the first is still ahead. A
    /// service that was down for two periods reviews once, at the later anniversary.
    /// </summary>
    /// <remarks>
    /// Each step counts from the anniversary before it, as a review that sets the level's date to it does:
    /// the 31st reviewed on September 30th is next due on October 30th. So the answer is never followed by
    /// another anniversary before <paramref name="now"/>, and a member settled twice is reviewed once.
    /// </remarks>
    public static DateTimeOffset? DueAt(DateTimeOffset since, DateTimeOffset now, int everyMonths, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(since, zone).DateTime;
        DateTimeOffset? due = null;
        while (true)
        {
            var next = BusinessZone.Instant(local.AddMonths(everyMonths), zone);
            if (next > now)
                return due;
            due = next;
            local = TimeZoneInfo.ConvertTime(next, zone).DateTime;
        }
    }

    /// <summary>
    /// The settling job's cut-off: every level change whose review <see cref="DueAt"/> finds due at
    /// <paramref name="now"/> is at or before it. A shorter month clips an anniversary by up to three
    /// days (a change on 31 January is due, with one month, on 28 February), so the cut-off reaches
    /// four days past the same date a period back; the few members it names that are not yet due are
    /// left alone by the job's own check of DueAt.
    /// </summary>
    public static DateTimeOffset ChangedBy(DateTimeOffset now, int everyMonths, TimeZoneInfo zone) =>
        WindowStart(now, everyMonths, zone).AddDays(4);

    /// <summary>The window a review at <paramref name="due"/> counts earnings in: [due - everyMonths, due).</summary>
    public static DateTimeOffset WindowStart(DateTimeOffset due, int everyMonths, TimeZoneInfo zone) =>
        BusinessZone.Instant(TimeZoneInfo.ConvertTime(due, zone).DateTime.AddMonths(-everyMonths), zone);
}
