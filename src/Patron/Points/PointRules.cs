using Patron.Levels;

namespace Patron.Points;

/// <summary>A member's points state: before or after a change.</summary>
public readonly record struct PointsState(long Balance, long LifetimeEarned, byte LevelId);

/// <summary>The pure rules of a points change (SPEC §2), free of storage.</summary>
public static class PointRules
{
    public const int MaxBillNumLength = 20;
    public const int MaxIdempotencyKeyLength = 128;

    /// <summary>P ticketing, S retail, R rental, C recharge, E exchange, Z clearing.</summary>
    public const string BusiTypes = "PSRCEZ";

    /// <summary>An Idempotency-Key: 1 to 128 visible ASCII characters. Anything else is refused, not truncated.</summary>
    public static bool IsIdempotencyKey(string key) =>
        key.Length is > 0 and <= MaxIdempotencyKeyLength && !key.Any(c => c is < '!' or > '~');

    /// <summary>Checks what can be checked without the member: the shape of the request.</summary>
    public static Failure? Validate(string busiType, string busiBillNum, long changeValue)
    {
        if (busiType.Length != 1 || !BusiTypes.Contains(busiType[0]))
            return Failure.Invalid("BusiType", $"'{Truncate(busiType)}' is not one of P, S, R, C, E, Z");
        if (busiBillNum.Length is 0 or > MaxBillNumLength)
            return Failure.Invalid("BusiBillNum", $"required, at most {MaxBillNumLength} characters");
        if (StoredText.HasNul(busiBillNum))
            return Failure.Invalid("BusiBillNum", "must not contain NUL characters");
        return busiType[0] switch
        {
            'E' when changeValue >= 0 => Failure.Invalid("ChangeValue", "an exchange (E) must be negative"),
            'Z' when changeValue > 0 => Failure.Invalid("ChangeValue", "a clearing (Z) is 0 or minus the balance"),
            'P' or 'S' or 'R' or 'C' when changeValue == 0 => Failure.Invalid("ChangeValue", "must not be 0"),
            _ => null,
        };
    }

    /// <summary>Applies a validated change; fails, changing nothing, if the balance would go below zero.</summary>
    public static Outcome<PointsState> Apply(PointsState before, char busiType, long changeValue, LevelTable levels)
    {
        var change = changeValue;
        if (busiType == 'Z')
        {
            if (changeValue != 0 && changeValue != -before.Balance)
                return Failure.Invalid("ChangeValue", $"a clearing (Z) is 0 or {-before.Balance}, minus the balance");
            change = -before.Balance;
        }

        long balance, lifetime;
        try
        {
            balance = checked(before.Balance + change);
            lifetime = checked(before.LifetimeEarned + Math.Max(change, 0));
        }
        catch (OverflowException)
        {
            return Failure.Invalid("ChangeValue", "out of range");
        }

        if (balance < 0)
            return new Failure(ErrorCode.NotEnoughPoints, $"not enough points: the balance is {before.Balance}, the change {change}");
        return new PointsState(balance, lifetime, levels.Promote(before.LevelId, balance, lifetime));
    }

    private static string Truncate(string s) => s.Length <= 8 ? s : s[..8] + "…";
}
