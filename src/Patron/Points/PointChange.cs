using System.Security.Cryptography;
using System.Text;

namespace Patron.Points;

/// <summary>
/// A request to change a member's points: from a channel (Point/Add), or from an operator
/// (<see cref="ChannelId"/> null), whose change is audited in the same transaction.
/// </summary>
public sealed record PointChange(long MemberId, string BusiType, string BusiBillNum, long ChangeValue,
    int? ChannelId, string Actor, string? IdempotencyKey)
{
    /// <summary>The same request in any wire format hashes the same.</summary>
    public string RequestHash() => Convert.ToHexString(SHA256.HashData(
        Encoding.UTF8.GetBytes($"{MemberId}\n{BusiType}\n{BusiBillNum}\n{ChangeValue}")));

    public bool ByOperator => ChannelId is null;

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
