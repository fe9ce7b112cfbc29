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
}
