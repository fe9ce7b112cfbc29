using Patron.Points.Lots;

namespace Patron.Points;

/// <summary>A member's points state: before or after a change.</summary>
public readonly record struct PointsState(long Balance, long LifetimeEarned, byte LevelId, DateTimeOffset LevelSince);

/// <summary>What one change did: the member's new state and the ledger row's own columns.</summary>
public readonly record struct Applied(PointsState After, long Change, long Earned, long PendingValue, long Shortfall);

/// <summary>The pure rules of a points change (SPEC §2, docs/points.md), free of storage.</summary>
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
            'P' or 'S' or 'R' or 'C' when changeValue == long.MinValue => Failure.Invalid("ChangeValue", "out of range"),
            _ => null,
        };
    }

    /// <summary>
    /// Applies a validated change to the member and their lots. A failure changes nothing: every
    /// check comes before the lots are touched.
    /// </summary>
    public static Outcome<Applied> Apply(PointsState before, MemberLots lots, PointChange change, PointsPolicy policy, DateTimeOffset now)
    {
        var value = change.ChangeValue;
        switch (change.BusiType[0])
        {
            case 'Z':
                if (value != 0 && value != -before.Balance)
                    return Failure.Invalid("ChangeValue", $"a clearing (Z) is 0 or {-before.Balance}, minus the balance");
                var (_, pending) = lots.Clear();
                return new Applied(before with { Balance = 0 }, -before.Balance, 0, -pending, 0);
            case 'E':
                if (before.Balance + value < 0)
                    return new Failure(ErrorCode.NotEnoughPoints, $"not enough points: the balance is {before.Balance}, the change {value}");
                lots.Spend(-value);
                return new Applied(before with { Balance = before.Balance + value }, value, 0, 0, 0);
            default:
                return value > 0 ? Earn(before, lots, change, policy, now) : Reverse(before, lots, change);
        }
    }

    /// <summary>A positive P, S, R or C: a new lot, available now or pending for the channel's pendingDays.</summary>
    private static Outcome<Applied> Earn(PointsState before, MemberLots lots, PointChange change, PointsPolicy policy, DateTimeOffset now)
    {
        var value = change.ChangeValue;
        var pendingDays = change.Terms?.PendingDays ?? 0;
        var availableAt = now.AddDays(pendingDays);
        long balance, lifetime;
        try
        {
            balance = checked(before.Balance + (pendingDays > 0 ? 0 : value));
            lifetime = checked(before.LifetimeEarned + (pendingDays > 0 ? 0 : value));
        }
        catch (OverflowException)
        {
            return Failure.Invalid("ChangeValue", "out of range");
        }
        lots.Add(new PointLot
        {
            MemberId = change.MemberId, ChannelId = change.ChannelId, BusiType = change.BusiType, BusiBillNum = change.BusiBillNum,
            Amount = value, Remaining = value, Pending = pendingDays > 0, EarnedAt = now, AvailableAt = availableAt,
            ExpiresAt = (change.Terms?.Expiry ?? policy.Expiry).ExpiresAt(availableAt, policy.Zone),
        });
        if (pendingDays > 0)
            return new Applied(before, 0, 0, value, 0);
        return new Applied(Promoted(before, balance, lifetime, policy, now), value, value, 0, 0);
    }

    /// <summary>
    /// A negative P, S, R or C reverses an earning: it takes what the balance still holds (never
    /// below zero) and records the rest as a shortfall; lifetime points lose the whole reversal.
    /// </summary>
    private static Applied Reverse(PointsState before, MemberLots lots, PointChange change)
    {
        var amount = -change.ChangeValue;
        var (cancelled, taken) = lots.Reverse(change.ChannelId, change.BusiBillNum, amount);
        var earned = -Math.Min(amount - cancelled, before.LifetimeEarned);
        var after = before with { Balance = before.Balance - taken, LifetimeEarned = before.LifetimeEarned + earned };
        return new Applied(after, -taken, earned, -cancelled, amount - cancelled - taken);
    }

    /// <summary>The state after points became available: promoted if they carried the basis across a threshold.</summary>
    public static PointsState Promoted(PointsState before, long balance, long lifetime, PointsPolicy policy, DateTimeOffset now)
    {
        var levels = policy.Levels;
        var level = levels.Reached(before.LevelId, levels.BasisOf(before.Balance, before.LifetimeEarned), levels.BasisOf(balance, lifetime));
        return new PointsState(balance, lifetime, level, level == before.LevelId ? before.LevelSince : now);
    }

    private static string Truncate(string s) => s.Length <= 8 ? s : s[..8] + "…";
}
