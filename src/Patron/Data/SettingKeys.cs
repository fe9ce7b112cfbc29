namespace Patron.Data;

public static class SettingKeys
{
    public const string TimeZone = "timeZone";
    public const string LevelBasis = "levelBasis";

    /// <summary>One setting's value, for the write stores of both dialects.</summary>
    public const string ValueSql = "SELECT value FROM settings WHERE key = $1";
}
