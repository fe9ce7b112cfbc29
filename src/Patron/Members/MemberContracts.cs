namespace Patron.Members;

public sealed record LevelRef(byte Id, string? Name);

public sealed record MemberResponse(long Id, string Code, string? Name, string? Phone, long Balance, long LifetimeEarned, LevelRef Level);

public sealed record LedgerRow(
    long AutoId, string BusiType, string BusiBillNum, long ChangeValue, long BalanceBefore, long BalanceAfter,
    byte LevelBefore, byte LevelAfter, string Actor, DateTimeOffset CreatedAt, string? IdempotencyKey);

/// <summary>A page of the ledger, newest first; pass <c>NextBefore</c> as <c>before</c> for the next page.</summary>
public sealed record LedgerPage(IReadOnlyList<LedgerRow> Items, long? NextBefore);
