using System.Text.Json;
using System.Text.Json.Serialization;

namespace Patron.Members;

public sealed record LevelRef(byte Id, string? Name);

public sealed record MemberResponse(long Id, string Code, string? Name, string? Phone, long Balance, long LifetimeEarned, LevelRef Level,
    long PendingPoints, long ExpiringPoints);

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
    public static MemberResponse ToResponse(this Member m, string? levelName, DateTimeOffset now)
    {
        var points = MemberPoints.Of(m, now);
        return new(m.Id, m.Code, m.Name, m.Phone, m.Balance, m.LifetimeEarned, new LevelRef(m.LevelId, levelName), points.Pending, points.Expiring);
    }

    public static MemberView ToView(this Member m, DateTimeOffset now)
    {
        var points = MemberPoints.Of(m, now);
        return new(m.Id, m.Code, m.Name, m.Phone, m.LevelId, m.Balance, points.Pending, m.LifetimeEarned, points.Expiring);
    }
}
