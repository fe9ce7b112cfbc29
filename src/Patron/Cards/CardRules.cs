using System.Globalization;
using Patron.Data;

namespace Patron.Cards;

/// <summary>
/// Card validity and cycles in the business time zone (SPEC §3). Instants are epoch milliseconds;
/// days are calendar days of the zone, so a cycle always turns at local midnight.
/// </summary>
public static class CardCalendar
{
    public const string LocalFormat = "yyyy-MM-dd HH:mm:ss";

    public static bool TryParseLocal(string text, TimeZoneInfo zone, out long epochMs)
    {
        epochMs = 0;
        if (!DateTime.TryParseExact(text.Trim(), LocalFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)
            || zone.IsInvalidTime(local))
            return false;
        epochMs = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone)).ToUnixTimeMilliseconds();
        return true;
    }

    public static DateOnly LocalDate(long epochMs, TimeZoneInfo zone) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(epochMs), zone).DateTime);

    /// <summary>Local midnight; in a zone whose clocks skip midnight, the day starts later.</summary>
    public static long StartOfDay(DateOnly date, TimeZoneInfo zone) =>
        BusinessZone.Instant(date.ToDateTime(TimeOnly.MinValue), zone).ToUnixTimeMilliseconds();

    /// <summary>beginTime is 00:00 of the sale day; endTime is validDays days later, less 1 ms.</summary>
    public static (long Begin, long End) Validity(long saleTime, int validDays, TimeZoneInfo zone)
    {
        var day = LocalDate(saleTime, zone);
        return (StartOfDay(day, zone), StartOfDay(day.AddDays(validDays), zone) - 1);
    }

    /// <summary>Cycle k (from 1) covers [begin + (k−1)·cycleDays days, begin + k·cycleDays days).</summary>
    public static int CycleOf(long t, long begin, int cycleDays, TimeZoneInfo zone) =>
        (LocalDate(t, zone).DayNumber - LocalDate(begin, zone).DayNumber) / cycleDays + 1;

    /// <summary>The zone a sold card's days and cycles are counted in: the business zone in force at its sale.</summary>
    public static TimeZoneInfo ZoneOf(MemberCard card) => BusinessZone.FromSetting(card.TimeZone);

    public static (long Start, long End) CycleWindow(int cycle, long begin, int cycleDays, TimeZoneInfo zone)
    {
        var first = LocalDate(begin, zone).AddDays((cycle - 1) * cycleDays);
        return (StartOfDay(first, zone), StartOfDay(first.AddDays(cycleDays), zone));
    }
}

/// <summary>What an entry's counters say, derived from its uncancelled uses.</summary>
public readonly record struct UsageSummary(int HasUsedNum, int LastCycle, int LastCycleUsed)
{
    /// <summary>lastCycle is the latest cycle with a use, even when uses arrive out of order.</summary>
    public static UsageSummary Of(IReadOnlyCollection<int> cycles)
    {
        if (cycles.Count == 0)
            return new UsageSummary(0, 0, 0);
        var last = cycles.Max();
        return new UsageSummary(cycles.Count, last, cycles.Count(c => c == last));
    }
}

public static class CardRules
{
    /// <summary>
    /// Decides one use at <paramref name="t"/> given the entry's uncancelled use cycles; on success,
    /// the cycle the use counts in. The caller writes it under a compare-and-set on lockVersion.
    /// </summary>
    public static Outcome<int> Use(MemberCard card, UsageEntry entry, IReadOnlyCollection<int> cycles, long t) =>
        Use(card, entry, cycles.Count, cycle => cycles.Count(c => c == cycle), t);

    /// <summary>
    /// Decides one use at <paramref name="t"/> given how many uncancelled uses the entry has in all
    /// (<paramref name="used"/>) and in a given cycle; on success, the cycle the use counts in.
    /// </summary>
    public static Outcome<int> Use(MemberCard card, UsageEntry entry, int used, Func<int, int> usedInCycle, long t)
    {
        if (card.Status != CardStatus.Effective || entry.Status != CardStatus.Effective)
            return new Failure(ErrorCode.MemberCardNotEffective, "the member card is not effective (refunded or void)");
        if (t < entry.BeginTime)
            return new Failure(ErrorCode.MemberCardNotEffective, "the member card is not yet effective at that time");
        if (t > entry.EndTime)
            return new Failure(ErrorCode.MemberCardNotEffective, "the member card has expired");
        if (used >= entry.TotalUsedNum)
            return new Failure(ErrorCode.TotalUsesUsedUp, $"all {entry.TotalUsedNum} uses of {entry.CardProductName} are used up");
        var cycle = CardCalendar.CycleOf(t, entry.BeginTime, entry.CycleDays, CardCalendar.ZoneOf(card));
        if (usedInCycle(cycle) >= entry.CycleNum)
            return new Failure(ErrorCode.CycleQuotaUsedUp, $"the {entry.CycleNum} uses of cycle {cycle} are used up");
        return cycle;
    }

    /// <summary>
    /// The seed's status as of <paramref name="now"/>: void ("2") once refunded (<paramref name="kept"/>),
    /// past <paramref name="endTime"/> or with no use left; effective ("1") otherwise. Derived from the
    /// clock on every read, never stored, so a card turns void at its endTime without anyone writing it.
    /// </summary>
    public static int Status(int kept, long endTime, bool usedUp, long now) =>
        kept != CardStatus.Effective || now > endTime || usedUp ? CardStatus.Void : CardStatus.Effective;

    public static bool UsedUp(int hasUsedNum, int totalUsedNum) => hasUsedNum >= totalUsedNum;

    /// <summary>
    /// A card is used up when it has products and every one's uses are spent. A loop over the
    /// entries as they are: a card list reads it for every card it answers.
    /// </summary>
    public static bool UsedUp<T>(IReadOnlyList<T> products, Func<T, (int HasUsedNum, int TotalUsedNum)> counts)
    {
        for (var i = 0; i < products.Count; i++)
        {
            var (used, total) = counts(products[i]);
            if (!UsedUp(used, total))
                return false;
        }
        return products.Count > 0;
    }

    public static int Status(MemberCard card, long now) =>
        Status(card.Status, card.EndTime, UsedUp(card.Entries, static e => (e.HasUsedNum, e.TotalUsedNum)), now);

    /// <summary>An entry is void with its card, or on its own when its product's uses are used up.</summary>
    public static int Status(UsageEntry entry, MemberCard card, long now) => Status(card.Status == CardStatus.Effective ? entry.Status : card.Status,
        entry.EndTime, UsedUp(entry.HasUsedNum, entry.TotalUsedNum), now);
}
