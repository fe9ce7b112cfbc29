namespace Patron.Data;

public static class SettingKeys
{
    public const string TimeZone = "timeZone";
    public const string LevelBasis = "levelBasis";

    /// <summary>Catalog <c>points.expiry</c>, as PointsExpiry's text; none, points never expire.</summary>
    public const string PointsExpiry = "pointsExpiry";

    /// <summary>Catalog <c>levelReview.everyMonths</c>; none, levels only go up.</summary>
    public const string LevelReviewMonths = "levelReviewMonths";

    /// <summary>One setting's value, for the write stores of both dialects.</summary>
    public const string ValueSql = "SELECT value FROM settings WHERE key = $1";
}
