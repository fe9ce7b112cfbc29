namespace Patron.Members;

/// <summary>What a member's points are doing besides counting: waiting to become available, or about to expire.</summary>
public sealed record MemberPoints(long Pending, long Expiring)
{
    /// <summary>How far ahead <see cref="Expiring"/> looks.</summary>
    public static readonly TimeSpan ExpiringWindow = TimeSpan.FromDays(30);

    /// <summary>
    /// The one place every view (open API, <c>/api/v1</c>, console) takes these numbers from. Both are 0
    /// under today's rules: a point counts in the balance the moment it is added and never expires, so
    /// nothing is pending and nothing falls due within <see cref="ExpiringWindow"/> of <paramref name="now"/>.
    /// </summary>
    public static MemberPoints Of(Member member, DateTimeOffset now) => new(Pending: 0, Expiring: 0);
}
