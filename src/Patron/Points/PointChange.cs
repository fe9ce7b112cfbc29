using System.Security.Cryptography;
using System.Text;
using Patron.Points.Lots;

namespace Patron.Points;

/// <summary>
/// A request to change a member's points: from a channel (Point/Add), or from an operator
/// (<see cref="ChannelId"/> null), whose change is audited in the same transaction.
/// </summary>
public sealed record PointChange(long MemberId, string BusiType, string BusiBillNum, long ChangeValue,
    int? ChannelId, string Actor, string? IdempotencyKey, LotTerms? Terms = null)
{
    /// <summary>The settling job's request: activate, expire and review whatever of the member's is due.</summary>
    public const string SettleType = "*";

    public const string SystemActor = "system";

    public static PointChange Settle(long memberId) => new(memberId, SettleType, "", 0, null, SystemActor, null);

    public bool IsSettle => BusiType == SettleType;

    /// <summary>Takes from the member's lots, so the store reads them: a spend, a reversal, a clearing, a settling.</summary>
    public bool Consumes => IsSettle || ChangeValue < 0 || BusiType == "Z";

    /// <summary>The same request in any wire format hashes the same.</summary>
    public string RequestHash() => Convert.ToHexString(SHA256.HashData(
        Encoding.UTF8.GetBytes($"{MemberId}\n{BusiType}\n{BusiBillNum}\n{ChangeValue}")));

    public bool ByOperator => ChannelId is null && !IsSettle;

    /// <summary>The key under which this request's first answer is kept; null without an Idempotency-Key.</summary>
    public PointKey? Key => IdempotencyKey is { } key ? PointKey.Of(ChannelId, Actor, key) : null;
}

/// <summary>
/// Whose an Idempotency-Key is: a channel's keys are the channel's (whatever its name), an
/// operator's are the operator's, so that two operators choosing one key never meet.
/// </summary>
public readonly record struct PointKey(int? ChannelId, string? Operator, string Key)
{
    public static PointKey Of(int? channelId, string actor, string key) => channelId is { } channel ? new(channel, null, key) : new(null, actor, key);

    public static PointKey Of(PointEntry entry) => Of(entry.ChannelId, entry.Actor, entry.IdempotencyKey!);
}

/// <summary>A channel's own terms for the lots its changes earn: days pending, and an expiry overriding the catalog's.</summary>
public sealed record LotTerms(int PendingDays, PointsExpiry? Expiry);
