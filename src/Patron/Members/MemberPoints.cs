using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Patron.Channels;
using Patron.Data;
using Patron.Points.Lots;

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
    /// <see cref="DetailAsync"/>, all by the rule in <see cref="PendingRule"/> and <see cref="ExpiringRule"/>.
    /// </summary>
    public static async Task<MemberPoints> LoadAsync(PatronDb db, long memberId, DateTimeOffset now, CancellationToken ct) =>
        (await LoadAsync(db, [memberId], now, ct)).GetValueOrDefault(memberId, None);

    /// <summary>Several members' numbers in one query, e.g. a page of search results: from <c>point_lots</c>, a subquery each.</summary>
    public static async Task<Dictionary<long, MemberPoints>> LoadAsync(PatronDb db, IReadOnlyCollection<long> memberIds, DateTimeOffset now,
        CancellationToken ct)
    {
        if (memberIds.Count == 0)
            return [];
        var expiring = OnLots(ExpiringRule, Horizon(now));
        var rows = await db.Members.AsNoTracking().Where(m => memberIds.Contains(m.Id)).Select(m => new
        {
            m.Id,
            Pending = db.PointLots.Where(l => l.MemberId == m.Id).Where(PendingLots).Sum(l => l.Remaining),
            Expiring = db.PointLots.Where(l => l.MemberId == m.Id).Where(expiring).Sum(l => l.Remaining),
        }).ToListAsync(ct);
        return rows.ToDictionary(r => r.Id, r => new MemberPoints(r.Pending, r.Expiring));
    }

    /// <summary>
    /// One member with its level's name, these numbers and its live lots: a detail view. The numbers
    /// are summed from the lots as they are read, so that the lots are read once; a member with more
    /// lots than the list holds gets them from the sums' query. Each row becomes its view as it is
    /// read, its channel named from <see cref="ChannelDirectory"/>: a detail holds one small object
    /// per lot while it waits to be written, which counts with hundreds of details in flight, and
    /// the rows are read as values, not entities, so that no second object is made per lot.
    /// </summary>
    public static async Task<(Member Member, string? LevelName, MemberPoints Points, MemberLotList Lots)?> DetailAsync(PatronDb db,
        ChannelDirectory channels, long memberId, DateTimeOffset now, CancellationToken ct)
    {
        // The names before the rows and after them, never while the rows' connection is held: a
        // reload of the directory takes a connection too, and at a full pool it would wait on its own.
        var names = await channels.NamesAsync(ct);
        if (await MemberWithLevel.For(db)(db, memberId) is not { } found)
            return null;
        var horizon = Horizon(now);
        var lots = new List<MemberLot>();
        List<(int Index, int Channel)>? unnamed = null;
        long pending = 0, expiring = 0;
        var capped = false;
        await foreach (var lot in LiveLots.For(db)(db, memberId).WithCancellation(ct))
        {
            if (lots.Count == MaxLots)
            {
                capped = true;
                break;
            }
            pending += IsPending(lot) ? lot.Remaining : 0;
            expiring += IsExpiring(lot, horizon) ? lot.Remaining : 0;
            string? channel = null;
            if (lot.ChannelId is { } id && !names.TryGetValue(id, out channel))
                (unnamed ??= []).Add((lots.Count, id));
            lots.Add(new MemberLot(lot.Id, lot.BusiType, lot.BusiBillNum, channel, lot.Amount, lot.Remaining, lot.Pending,
                lot.EarnedAt.ToUniversalTime(), lot.AvailableAt.ToUniversalTime(), lot.ExpiresAt?.ToUniversalTime()));
        }
        if (unnamed is not null)
        {
            channels.Invalidate();
            names = await channels.NamesAsync(ct);
            foreach (var (index, id) in unnamed)
                lots[index] = lots[index] with { Channel = names.GetValueOrDefault(id) };
        }
        var points = capped ? await LoadAsync(db, memberId, now, ct) : new MemberPoints(pending, expiring);
        return (found.Member, found.LevelName, points, new MemberLotList(lots, capped));
    }

    /// <summary>A live lot as a detail reads it: the columns it shows and the rules read, as a value.</summary>
    private readonly record struct LotRow(long Id, int? ChannelId, string BusiType, string BusiBillNum, long Amount, long Remaining,
        bool Pending, DateTimeOffset EarnedAt, DateTimeOffset AvailableAt, DateTimeOffset? ExpiresAt);

    /// <summary>The rule for pending points: the remaining points of a pending lot.</summary>
    private static readonly Expression<Func<LotRow, bool>> PendingRule = l => l.Remaining > 0 && l.Pending;

    /// <summary>
    /// The rule for expiring points: the remaining points of an available lot that expires by the
    /// horizon. A lot already past its <c>ExpiresAt</c> that the settling job has not expired yet
    /// still has points, and they are about to go: it counts.
    /// </summary>
    private static readonly Expression<Func<LotRow, DateTimeOffset?, bool>> ExpiringRule =
        (l, horizon) => l.Remaining > 0 && !l.Pending && l.ExpiresAt != null && l.ExpiresAt <= horizon;

    // The same rules, for rows in hand and for a query's stored lots.
    private static readonly Func<LotRow, bool> IsPending = PendingRule.Compile();
    private static readonly Func<LotRow, DateTimeOffset?, bool> IsExpiring = ExpiringRule.Compile();
    private static readonly Expression<Func<PointLot, bool>> PendingLots = OnLots(PendingRule);

    /// <summary>
    /// A rule as a condition on stored lots: each field of the row read from the lot's property of
    /// the same name, and the horizon a field of an object, as a captured variable is, so that EF
    /// sends it as a parameter and keeps one plan.
    /// </summary>
    private static Expression<Func<PointLot, bool>> OnLots(LambdaExpression rule, DateTimeOffset? horizon = null)
    {
        var lot = Expression.Parameter(typeof(PointLot), "l");
        var bound = Expression.Field(Expression.Constant(new Bound(horizon)), nameof(Bound.Horizon));
        return Expression.Lambda<Func<PointLot, bool>>(new OnLot(rule.Parameters, lot, bound).Visit(rule.Body), lot);
    }

    private sealed class Bound(DateTimeOffset? horizon)
    {
        public readonly DateTimeOffset? Horizon = horizon;
    }

    private sealed class OnLot(IReadOnlyList<ParameterExpression> rule, ParameterExpression lot, Expression horizon) : ExpressionVisitor
    {
        protected override Expression VisitMember(MemberExpression node) =>
            node.Expression == rule[0] ? Expression.Property(lot, node.Member.Name) : base.VisitMember(node);

        protected override Expression VisitParameter(ParameterExpression node) => rule.Count > 1 && node == rule[1] ? horizon : node;
    }

    /// <summary>Lots are stored in UTC; on SQLite instants compare as integers, which is right only between UTC values.</summary>
    private static DateTimeOffset? Horizon(DateTimeOffset now) => now.ToUniversalTime() + ExpiringWindow;

    private sealed record MemberAndLevel(Member Member, string? LevelName);

    private static readonly CompiledQuery<Func<PatronDb, long, Task<MemberAndLevel?>>> MemberWithLevel =
        new(() => EF.CompileAsyncQuery((PatronDb db, long memberId) => db.Members.AsNoTracking().Where(m => m.Id == memberId)
            .Select(m => new MemberAndLevel(m, db.Levels.Where(l => l.Id == m.LevelId).Select(l => l.Name).FirstOrDefault()))
            .SingleOrDefault()));

    /// <summary>
    /// A member's lots that still hold points, soonest to expire first (never-expiring last), then
    /// the soonest available, then the oldest: the order spending takes them in, and the order of the
    /// index <c>ix_point_lots_live</c>, so the query reads no further than it lists. One more than
    /// <see cref="MaxLots"/>, to tell a full list from a cut one.
    /// </summary>
    private static readonly CompiledQuery<Func<PatronDb, long, IAsyncEnumerable<LotRow>>> LiveLots =
        new(() => EF.CompileAsyncQuery((PatronDb db, long memberId) => db.PointLots
            .Where(l => l.MemberId == memberId && l.Remaining > 0)
            .OrderBy(l => l.ExpiresAt == null).ThenBy(l => l.ExpiresAt).ThenBy(l => l.AvailableAt).ThenBy(l => l.Id)
            .Take(MaxLots + 1)
            .Select(l => new LotRow(l.Id, l.ChannelId, l.BusiType, l.BusiBillNum, l.Amount, l.Remaining, l.Pending, l.EarnedAt,
                l.AvailableAt, l.ExpiresAt))));
}
