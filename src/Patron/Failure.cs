namespace Patron;

/// <summary>The error codes of SPEC §7, one table for both partner APIs.</summary>
public enum ErrorCode
{
    Ok = 0,
    UnknownChannel = 1001,
    TimestampOutsideWindow = 1002,
    CannotDecrypt = 1003,
    InvalidParameter = 1004,
    ScopeNotGranted = 1005,
    IdempotencyKeyReused = 1006,
    /// <summary>Not in SPEC §7 (which has no code for it): the channel's rate limit, with HTTP 429.</summary>
    RateLimited = 1007,
    MemberNotFound = 2001,
    CardNotFound = 2002,
    SaleNoReused = 2003,
    MemberCardNotFound = 2101,
    MemberCardNotEffective = 2102,
    CycleQuotaUsedUp = 2103,
    TotalUsesUsedUp = 2104,
    NotEnoughPoints = 2201,
    Internal = 5000,
}

/// <summary>An expected, readable failure: returned, never thrown.</summary>
public sealed record Failure(ErrorCode Code, string Message)
{
    public static Failure Invalid(string field, string problem) => new(ErrorCode.InvalidParameter, $"{field}: {problem}");
}

/// <summary>A value or the failure that prevented it.</summary>
public readonly struct Outcome<T>
{
    private Outcome(T? value, Failure? failure) => (Value, Failure) = (value, failure);

    public T? Value { get; }
    public Failure? Failure { get; }

    public static implicit operator Outcome<T>(T value) => new(value, null);
    public static implicit operator Outcome<T>(Failure failure) => new(default, failure);
}
