namespace Patron.Members;

public sealed record LevelRef(byte Id, string? Name);

public sealed record MemberResponse(long Id, string Code, string? Name, string? Phone, long Balance, long LifetimeEarned, LevelRef Level);

/// <summary>Id and code are chosen by Patron when left out.</summary>
public sealed record CreateMemberRequest(long? Id, string? Code, string? Name, string? Phone);

public sealed record EditMemberRequest(string? Name, string? Phone);

public static class MemberMapping
{
    public static MemberResponse ToResponse(this Member m, string? levelName) =>
        new(m.Id, m.Code, m.Name, m.Phone, m.Balance, m.LifetimeEarned, new LevelRef(m.LevelId, levelName));
}
