namespace Patron.Data;

public static class SettingKeys
{
    public const string TimeZone = "timeZone";
    public const string LevelBasis = "levelBasis";
}
