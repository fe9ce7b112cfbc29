using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Patron.Console;
using Patron.Data;

namespace Patron.Cards;

/// <summary>An operator moves a member card's end to a later business day: the card and its entries end together.</summary>
public static class CardExtension
{
    /// <summary>As far as a card may be made valid for at all: the longest validDays a card can have.</summary>
    public const int MaxDays = 36600;

    /// <summary>
    /// The card's new endTime: the last millisecond of <paramref name="endDate"/> in the zone the card
    /// was sold in, as a sale's endTime is. Only later than the current end; only an effective card. Pure.
    /// </summary>
    public static Outcome<long> NewEnd(MemberCard card, DateOnly endDate, TimeZoneInfo zone)
    {
        if (card.Status != CardStatus.Effective)
            return new Failure(ErrorCode.MemberCardNotEffective, $"member card {card.Id} is refunded or void");
        var current = CardCalendar.LocalDate(card.EndTime, zone);
        if (endDate <= current)
            return Failure.Invalid("endDate", $"must be after the card's current end date {Day(current)}");
        var begin = CardCalendar.LocalDate(card.BeginTime, zone);
        if (endDate.DayNumber - begin.DayNumber >= MaxDays)
            return Failure.Invalid("endDate", $"at most {MaxDays} days after the card began ({Day(begin)})");
        return CardCalendar.StartOfDay(endDate.AddDays(1), zone) - 1;
    }

    /// <summary>
    /// Extends a card to the end of <paramref name="endDate"/>, with its audit row, in one
    /// transaction: the card's entries are locked first, in id order as uses and refunds lock them,
    /// so a use or refund in flight is waited for and the card is judged as it left it. The card's
    /// update is also conditional on the version decided on. The end only moves later, so no use
    /// that was allowed becomes wrong. Null: there is no such card.
    /// </summary>
    public static async Task<Outcome<long>?> ExtendAsync(PatronDb db, string id, DateOnly endDate, ClaimsPrincipal user, DateTimeOffset now,
        CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.LockCardEntriesAsync(id, ct);
        var card = await db.MemberCards.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, ct);
        if (card is null)
            return null;
        var zone = CardCalendar.ZoneOf(card);
        var decided = NewEnd(card, endDate, zone);
        if (decided.Failure is not null)
            return decided;
        var newEnd = decided.Value;
        var moved = await db.MemberCards.Where(c => c.Id == id && c.LockVersion == card.LockVersion && c.Status == CardStatus.Effective)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.EndTime, newEnd).SetProperty(c => c.LockVersion, c => c.LockVersion + 1), ct);
        if (moved == 0)
            return new Failure(ErrorCode.MemberCardNotEffective, $"member card {id} changed meanwhile; look again");
        await db.UsageEntries.Where(e => e.MemberCardId == id)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.EndTime, newEnd).SetProperty(e => e.LockVersion, e => e.LockVersion + 1), ct);
        db.Record(user, now, "card.extend", "member-card", id,
            new { endTime = card.EndTime, endDate = Day(CardCalendar.LocalDate(card.EndTime, zone)) },
            new { endTime = newEnd, endDate = Day(endDate), timeZone = zone.Id });
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return newEnd;
    }

    public static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static bool TryParseDay(string? text, out DateOnly date) =>
        DateOnly.TryParseExact(text?.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
}
