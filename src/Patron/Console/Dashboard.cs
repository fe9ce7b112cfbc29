using System.Linq.Expressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Cards;
using Patron.Data;
using Patron.Members.Import;
using Patron.Points;

namespace Patron.Console;

public sealed record DayStats(DateOnly Day, long PointsEarned, long PointsSpent, int CardsSold, int Uses);

/// <summary>Today and the last 30 business days (today included), with one row per day, oldest first.</summary>
public sealed record DashboardResponse(DayStats Today, DayStats Last30Days, IReadOnlyList<DayStats> Days);

/// <summary>
/// The figures of the last 30 business days, in four queries whatever the traffic: the zone, then
/// one grouped query per table. A use counts on the day of its useTime (when the member ate), the
/// cards of a sale on the day of its saleTime, a points change on the day it was written.
/// </summary>
public static class Dashboard
{
    public const int Days = 30;

    public static RouteHandlerBuilder MapDashboard(this IEndpointRouteBuilder api) =>
        api.MapGet("/dashboard", async (PatronDb db, TimeProvider clock, CancellationToken ct) => TypedResults.Ok(await LoadAsync(db, clock, ct)))
            .WithTags("Dashboard");

    public static async Task<DashboardResponse> LoadAsync(PatronDb db, TimeProvider clock, CancellationToken ct)
    {
        var zone = await BusinessZone.LoadAsync(db, ct);
        var today = CardCalendar.LocalDate(clock.GetUtcNow().ToUnixTimeMilliseconds(), zone);
        var first = today.AddDays(1 - Days);
        // Days + 1 starts: each day's, and the end of today.
        var starts = Enumerable.Range(0, Days + 1).Select(i => CardCalendar.StartOfDay(first.AddDays(i), zone)).ToArray();
        var instants = starts.Select(DateTimeOffset.FromUnixTimeMilliseconds).ToArray();
        var (from, to) = (instants[0], instants[^1]);
        var (start, end) = (starts[0], starts[^1]);

        var points = await db.PointEntries.AsNoTracking().Where(p => p.CreatedAt >= from && p.CreatedAt < to)
            .GroupBy(DayOf<PointEntry, DateTimeOffset>(p => p.CreatedAt, instants))
            .Select(g => new
            {
                Day = g.Key,
                // An imported opening balance was earned before Patron, not on the day it was imported.
                Earned = g.Sum(p => p.ChangeValue > 0 && p.BusiType != MemberImport.OpeningBusiType ? p.ChangeValue : 0),
                Spent = g.Sum(p => p.ChangeValue < 0 ? -p.ChangeValue : 0),
            })
            .ToDictionaryAsync(d => d.Day, ct);
        var cards = await db.CardSales.AsNoTracking().Where(s => s.SaleTime >= start && s.SaleTime < end)
            .GroupBy(DayOf<CardSale, long>(s => s.SaleTime, starts))
            .Select(g => new { Day = g.Key, Count = g.Sum(s => s.Num) })
            .ToDictionaryAsync(d => d.Day, d => d.Count, ct);
        var uses = await db.CardUses.AsNoTracking().Where(u => u.UseTime >= start && u.UseTime < end && u.CancelledAt == null)
            .GroupBy(DayOf<CardUse, long>(u => u.UseTime, starts))
            .Select(g => new { Day = g.Key, Count = g.Count() })
            .ToDictionaryAsync(d => d.Day, d => d.Count, ct);

        var days = Enumerable.Range(0, Days).Select(i => new DayStats(first.AddDays(i),
            points.GetValueOrDefault(i)?.Earned ?? 0, points.GetValueOrDefault(i)?.Spent ?? 0,
            cards.GetValueOrDefault(i), uses.GetValueOrDefault(i))).ToList();
        var total = new DayStats(today, days.Sum(d => d.PointsEarned), days.Sum(d => d.PointsSpent), days.Sum(d => d.CardsSold), days.Sum(d => d.Uses));
        return new DashboardResponse(days[^1], total, days);
    }

    /// <summary>
    /// The business day (0, the first) a time in <c>[starts[0], starts[^1])</c> falls in, as one SQL
    /// CASE over the days' starts: reckoned in C# from the zone, which SQL dialects would each spell
    /// differently, and compared in SQL, so that the grouping costs no more than the range scan.
    /// </summary>
    private static Expression<Func<T, int>> DayOf<T, TTime>(Expression<Func<T, TTime>> time, IReadOnlyList<TTime> starts)
    {
        Expression day = Expression.Constant(starts.Count - 2);
        for (var i = starts.Count - 2; i >= 1; i--)
            day = Expression.Condition(Expression.LessThan(time.Body, Expression.Constant(starts[i], typeof(TTime))), Expression.Constant(i - 1), day);
        return Expression.Lambda<Func<T, int>>(day, time.Parameters);
    }
}
