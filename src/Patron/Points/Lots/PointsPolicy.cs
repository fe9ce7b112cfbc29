using System.Globalization;
using Patron.Data;
using Patron.Levels;

namespace Patron.Points.Lots;

/// <summary>The chain's settings a points change is decided on, read in the batch's transaction.</summary>
public sealed record PointsPolicy(LevelTable Levels, PointsExpiry Expiry, int? ReviewMonths, TimeZoneInfo Zone)
{
    /// <summary>The settings <see cref="FromSettings"/> reads.</summary>
    public static readonly string[] Keys = [SettingKeys.LevelBasis, SettingKeys.PointsExpiry, SettingKeys.LevelReviewMonths, SettingKeys.TimeZone];

    /// <summary>The policy the stored settings give; a value written by hand that does not parse is the default.</summary>
    public static PointsPolicy FromSettings(IReadOnlyList<Level> levels, IReadOnlyDictionary<string, string> settings)
    {
        string? Value(string key) => settings.TryGetValue(key, out var v) ? v : null;
        var review = int.TryParse(Value(SettingKeys.LevelReviewMonths), NumberStyles.None, CultureInfo.InvariantCulture, out var months)
            && months is >= 1 and <= LevelReview.MaxMonths ? months : (int?)null;
        return new PointsPolicy(
            new LevelTable(levels, LevelTable.ParseBasis(Value(SettingKeys.LevelBasis)) ?? LevelBasis.Lifetime),
            PointsExpiry.Parse(Value(SettingKeys.PointsExpiry)) ?? PointsExpiry.Never,
            review,
            BusinessZone.FromSetting(Value(SettingKeys.TimeZone)));
    }
}
