namespace Patron.Members;

public sealed class Member
{
    /// <summary>The points API's integer MemberId.</summary>
    public long Id { get; set; }

    /// <summary>The open API's string member id, e.g. L38E1ASJP00Q4.</summary>
    public required string Code { get; set; }

    public string? Name { get; set; }
    public string? Phone { get; set; }
    public byte LevelId { get; set; }
    public long Balance { get; set; }

    /// <summary>Sum of the positive changes: the default level basis.</summary>
    public long LifetimeEarned { get; set; }

    /// <summary>When the level last changed or was reviewed: a level review falls due on its anniversaries.</summary>
    public DateTimeOffset LevelSince { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Append-only history of changes to a member other than points (levels, profile).</summary>
public sealed class MemberLog
{
    public long Id { get; set; }
    public long MemberId { get; set; }
    public required string Kind { get; set; }
    public string? FromValue { get; set; }
    public string? ToValue { get; set; }
    public required string Actor { get; set; }
    public DateTimeOffset At { get; set; }
}
