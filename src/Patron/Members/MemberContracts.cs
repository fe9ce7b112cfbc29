using System.Text.Json;
using System.Text.Json.Serialization;
using Patron.Data;

namespace Patron.Members;

public sealed record LevelRef(byte Id, string? Name);

public sealed record MemberResponse(long Id, string Code, string? Name, string? Phone, long Balance, long LifetimeEarned, LevelRef Level,
    long PendingPoints, long ExpiringPoints);

/// <summary>
/// One member for <c>GET /api/v1/members/{id}</c> and the console: the summary plus the lots that still
/// hold points, soonest to expire first; <c>LotsCapped</c> says more lots exist than the first
/// <see cref="MemberPoints.MaxLots"/> listed.
/// </summary>
public sealed record MemberDetailResponse(long Id, string Code, string? Name, string? Phone, long Balance, long LifetimeEarned, LevelRef Level,
    long PendingPoints, long ExpiringPoints, IReadOnlyList<MemberLot> Lots, bool LotsCapped);

/// <summary>Id and code are chosen by Patron when left out.</summary>
public sealed record CreateMemberRequest(long? Id, string? Code, string? Name, string? Phone);

public sealed record EditMemberRequest(string? Name, string? Phone);

/// <summary>A member as the open API answers it: <c>memberId</c> is the code, as in the card methods.</summary>
public sealed record MemberView(long Id, string MemberId, string? Name, string? Phone, byte LevelId, long Balance, long PendingPoints,
    long LifetimePoints, long ExpiringPoints);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MemberView))]
public sealed partial class MemberJson : JsonSerializerContext;

public static class MemberMapping
{
    /// <param name="points">From <see cref="MemberPoints.LoadAsync(PatronDb, long, DateTimeOffset, CancellationToken)"/>.</param>
    public static MemberResponse ToResponse(this Member m, string? levelName, MemberPoints points) =>
        new(m.Id, m.Code, m.Name, m.Phone, m.Balance, m.LifetimeEarned, new LevelRef(m.LevelId, levelName), points.Pending, points.Expiring);

    /// <summary>A member being created: no lots yet, so nothing pending or expiring.</summary>
    public static MemberResponse ToResponse(this Member m, string? levelName, DateTimeOffset now) => m.ToResponse(levelName, MemberPoints.None);

    public static MemberDetailResponse ToDetail(this Member m, string? levelName, MemberPoints points, MemberLotList lots) =>
        new(m.Id, m.Code, m.Name, m.Phone, m.Balance, m.LifetimeEarned, new LevelRef(m.LevelId, levelName), points.Pending, points.Expiring,
            lots.Items, lots.Capped);

    public static MemberView ToView(this Member m, MemberPoints points) =>
        new(m.Id, m.Code, m.Name, m.Phone, m.LevelId, m.Balance, points.Pending, m.LifetimeEarned, points.Expiring);
}
