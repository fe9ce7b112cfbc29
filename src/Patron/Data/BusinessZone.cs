using Microsoft.EntityFrameworkCore;

namespace Patron.Data;

public static class BusinessZone
{
    public const string Default = "Asia/Shanghai";

    /// <summary>The chain's time zone (catalog <c>timeZone</c>): where a day, and so a card's validity, begins.</summary>
    public static async Task<TimeZoneInfo> LoadAsync(PatronDb db, CancellationToken ct)
    {
        var id = await db.Settings.AsNoTracking().Where(s => s.Key == SettingKeys.TimeZone).Select(s => s.Value).FirstOrDefaultAsync(ct);
        return TimeZoneInfo.FindSystemTimeZoneById(id ?? Default);
    }
}
