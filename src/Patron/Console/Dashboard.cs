using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Cards;
using Patron.Data;
using Patron.Members.Import;

namespace Patron.Console;

public sealed record DayStats(DateOnly Day, long PointsEarned, long PointsSpent, int CardsSold, int Uses);

/// <summary>Today and the last 30 business days (today included), with one row per day, oldest first.</summary>
public sealed record DashboardResponse(DayStats Today, DayStats Last30Days, IReadOnlyList<DayStats> Days);

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
        var days = new List<DayStats>(Days);
        // One indexed range per day and figure: business days follow the zone's calendar, which SQL dialects would each spell differently.
        for (var day = today.AddDays(1 - Days); day <= today; day = day.AddDays(1))
        {
            var (start, end) = (CardCalendar.StartOfDay(day, zone), CardCalendar.StartOfDay(day.AddDays(1), zone));
            var (from, to) = (DateTimeOffset.FromUnixTimeMilliseconds(start), DateTimeOffset.FromUnixTimeMilliseconds(end));
            var ledger = db.PointEntries.AsNoTracking().Where(p => p.CreatedAt >= from && p.CreatedAt < to);
            days.Add(new DayStats(day,
                // An imported opening balance was earned before Patron, not on the day it was imported.
                await ledger.Where(p => p.ChangeValue > 0 && p.BusiType != MemberImport.OpeningBusiType).SumAsync(p => p.ChangeValue, ct),
                -await ledger.Where(p => p.ChangeValue < 0).SumAsync(p => p.ChangeValue, ct),
                await db.MemberCards.AsNoTracking().CountAsync(c => c.CreateTime >= start && c.CreateTime < end, ct),
                await db.CardUses.AsNoTracking().CountAsync(u => u.CreatedAt >= start && u.CreatedAt < end && u.CancelledAt == null, ct)));
        }
        var total = new DayStats(today, days.Sum(d => d.PointsEarned), days.Sum(d => d.PointsSpent), days.Sum(d => d.CardsSold), days.Sum(d => d.Uses));
        return new DashboardResponse(days[^1], total, days);
    }
}
