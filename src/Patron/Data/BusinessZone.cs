using Microsoft.EntityFrameworkCore;

namespace Patron.Data;

public static class BusinessZone
{
    public const string Default = "Asia/Shanghai";

    /// <summary>The chain's time zone (catalog <c>timeZone</c>): where a day, and so a card's validity, begins.</summary>
    public static async Task<TimeZoneInfo> LoadAsync(PatronDb db, CancellationToken ct)
    {
        var id = await db.Settings.AsNoTracking().Where(s => s.Key == SettingKeys.TimeZone).Select(s => s.Value).FirstOrDefaultAsync(ct);
        return FromSetting(id);
    }

    /// <summary>
    /// The instant a local time of <paramref name="zone"/> names. A time the clocks skip (a zone whose
    /// clocks jump at midnight) is taken as the first half hour after it that exists; an ambiguous one,
    /// as standard time. The calendar's first and last days stay within range: a filter may name them.
    /// </summary>
    public static DateTimeOffset Instant(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
            local = local.AddMinutes(30);
        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone));
    }

    /// <summary>The zone a <c>timeZone</c> setting names; none (null or empty) is <see cref="Default"/>.</summary>
    public static TimeZoneInfo FromSetting(string? setting) =>
        TimeZoneInfo.FindSystemTimeZoneById(string.IsNullOrEmpty(setting) ? Default : setting);
}

/// <summary>The business time zone for partner requests: read from the settings at most once a second.</summary>
public sealed class BusinessZoneCache(IServiceScopeFactory scopes)
{
    private sealed record Cached(TimeZoneInfo Zone, long TakenAt);

    private volatile Cached? _cached;

    public async ValueTask<TimeZoneInfo> GetAsync(CancellationToken ct)
    {
        var cached = _cached;
        if (cached is not null && Environment.TickCount64 - cached.TakenAt < 1_000)
            return cached.Zone;
        var takenAt = Environment.TickCount64;
        await using var scope = scopes.CreateAsyncScope();
        var zone = await BusinessZone.LoadAsync(scope.ServiceProvider.GetRequiredService<PatronDb>(), ct);
        _cached = new Cached(zone, takenAt);
        return zone;
    }
}
