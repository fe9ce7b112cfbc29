using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Members;

/// <summary>One live lot of a member's points, as every detail view shows it; times in UTC.</summary>
/// <param name="Channel">The channel that earned it; null for an operator's change or an opening balance.</param>
/// <param name="ExpiresAt">Null, never.</param>
public sealed record MemberLot(long Id, string BusiType, string BusiBillNum, string? Channel, long Amount, long Remaining, bool Pending,
    DateTimeOffset EarnedAt, DateTimeOffset AvailableAt, DateTimeOffset? ExpiresAt);

/// <summary>A member's live lots, soonest to expire first; <c>Capped</c> when there are more than the list holds.</summary>
public sealed record MemberLotList(IReadOnlyList<MemberLot> Items, bool Capped)
{
    public static readonly MemberLotList None = new([], false);
}

/// <summary>What a member's points are doing besides counting: waiting to become available, or about to expire.</summary>
/// <param name="Pending">Remaining points of pending lots: not in the balance yet.</param>
/// <param name="Expiring">Remaining points of available lots that expire within <see cref="ExpiringWindow"/>.</param>
public sealed record MemberPoints(long Pending, long Expiring)
{
    /// <summary>How far ahead <see cref="Expiring"/> looks.</summary>
    public static readonly TimeSpan ExpiringWindow = TimeSpan.FromDays(30);

    /// <summary>How many lots a detail view lists: a member with more sees the soonest to expire, and is told.</summary>
    public const int MaxLots = 200;

    /// <summary>A member with no lots, e.g. one just created.</summary>
    public static readonly MemberPoints None = new(0, 0);

    /// <summary>
    /// Every view (open API, <c>/api/v1</c>, console) takes these numbers from here or from
    /// <see cref="WithLevelAsync"/>, both through <see cref="WithPoints"/>.
    /// </summary>
    public static async Task<MemberPoints> LoadAsync(PatronDb db, long memberId, DateTimeOffset now, CancellationToken ct) =>
        (await LoadAsync(db, [memberId], now, ct)).GetValueOrDefault(memberId, None);

    /// <summary>Several members' numbers in one query, e.g. a page of search results.</summary>
    public static async Task<Dictionary<long, MemberPoints>> LoadAsync(PatronDb db, IReadOnlyCollection<long> memberIds, DateTimeOffset now,
        CancellationToken ct)
    {
        if (memberIds.Count == 0)
            return [];
        var rows = await WithPoints(db, db.Members.Where(m => memberIds.Contains(m.Id)), Horizon(now))
            .Select(r => new { r.Member.Id, r.Pending, r.Expiring }).ToListAsync(ct);
        return rows.ToDictionary(r => r.Id, r => new MemberPoints(r.Pending, r.Expiring));
    }

    /// <summary>One member with its level's name and these numbers, in one round trip: a detail view's first read.</summary>
    public static async Task<(Member Member, string? LevelName, MemberPoints Points)?> WithLevelAsync(PatronDb db, long memberId,
        DateTimeOffset now, CancellationToken ct) =>
        await WithPoints(db, db.Members.Where(m => m.Id == memberId), Horizon(now)).SingleOrDefaultAsync(ct) is { } row
            ? (row.Member, row.LevelName, new MemberPoints(row.Pending, row.Expiring))
            : null;

    private sealed class MemberWithPoints
    {
        public required Member Member { get; init; }
        public string? LevelName { get; init; }
        public long Pending { get; init; }
        public long Expiring { get; init; }
    }

    /// <summary>
    /// The one place the numbers are decided, read from <c>point_lots</c>, a subquery each. A lot
    /// already past its <c>ExpiresAt</c> that the settling job has not expired yet still has points,
    /// and they are about to go: it counts as expiring. Member-init rows, so that a caller can take
    /// only some of them and EF leaves the rest out of the SQL.
    /// </summary>
    private static IQueryable<MemberWithPoints> WithPoints(PatronDb db, IQueryable<Member> members, DateTimeOffset? horizon) =>
        members.AsNoTracking().Select(m => new MemberWithPoints
        {
            Member = m,
            LevelName = db.Levels.Where(l => l.Id == m.LevelId).Select(l => l.Name).FirstOrDefault(),
            Pending = db.PointLots.Where(l => l.MemberId == m.Id && l.Remaining > 0 && l.Pending).Sum(l => l.Remaining),
            Expiring = db.PointLots.Where(l => l.MemberId == m.Id && l.Remaining > 0 && !l.Pending && l.ExpiresAt != null && l.ExpiresAt <= horizon)
                .Sum(l => l.Remaining),
        });

    /// <summary>Lots are stored in UTC; on SQLite instants compare as integers, which is right only between UTC values.</summary>
    private static DateTimeOffset? Horizon(DateTimeOffset now) => now.ToUniversalTime() + ExpiringWindow;

    /// <summary>
    /// A member's lots that still hold points, soonest to expire first (never-expiring last), then
    /// the soonest available, then the oldest: the order spending takes them in. At most <see cref="MaxLots"/>.
    /// </summary>
    public static async Task<MemberLotList> LotsAsync(PatronDb db, long memberId, CancellationToken ct)
    {
        var rows = new List<LotRow>();
        await foreach (var row in LiveLots.For(db)(db, memberId).WithCancellation(ct))
            rows.Add(row);
        var lots = rows.Take(MaxLots).Select(l => new MemberLot(l.Id, l.BusiType, l.BusiBillNum, l.Channel, l.Amount, l.Remaining, l.Pending,
            l.EarnedAt.ToUniversalTime(), l.AvailableAt.ToUniversalTime(), l.ExpiresAt?.ToUniversalTime())).ToList();
        return new MemberLotList(lots, rows.Count > MaxLots);
    }

    private sealed record LotRow(long Id, string BusiType, string BusiBillNum, string? Channel, long Amount, long Remaining, bool Pending,
        DateTimeOffset EarnedAt, DateTimeOffset AvailableAt, DateTimeOffset? ExpiresAt);

    // The channel's name by a join, not a subquery: a subquery is an index lookup per lot, and a
    // member who earns often has tens of them.
    private static readonly CompiledQuery<Func<PatronDb, long, IAsyncEnumerable<LotRow>>> LiveLots =
        new(() => EF.CompileAsyncQuery((PatronDb db, long memberId) => (
            from l in db.PointLots.AsNoTracking()
            where l.MemberId == memberId && l.Remaining > 0
            join c in db.Channels on l.ChannelId equals (int?)c.Id into channels
            from c in channels.DefaultIfEmpty()
            orderby l.ExpiresAt == null, l.ExpiresAt, l.AvailableAt, l.Id
            select new LotRow(l.Id, l.BusiType, l.BusiBillNum, c == null ? null : c.Name,
                l.Amount, l.Remaining, l.Pending, l.EarnedAt, l.AvailableAt, l.ExpiresAt)).Take(MaxLots + 1)));
}
