using Patron.Cards;

namespace Patron.Tests.Cards;

public sealed class CardCalendarTests
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    private static long Local(string text, TimeZoneInfo zone) =>
        CardCalendar.TryParseLocal(text, zone, out var ms) ? ms : throw new FormatException(text);

    [Fact]
    public void ASaleLateInTheEveningStillBeginsAtMidnightOfItsLocalDay()
    {
        // 23:30 in Shanghai is 15:30 UTC the same day; a UTC-based calendar would get the day right here
        // but wrong at 00:30, so check both sides of UTC midnight.
        var (lateBegin, _) = CardCalendar.Validity(Local("2026-03-10 23:30:00", Shanghai), 1, Shanghai);
        var (earlyBegin, earlyEnd) = CardCalendar.Validity(Local("2026-03-10 00:30:00", Shanghai), 1, Shanghai);

        Assert.Equal(Local("2026-03-10 00:00:00", Shanghai), lateBegin);
        Assert.Equal(lateBegin, earlyBegin);
        Assert.Equal(Local("2026-03-11 00:00:00", Shanghai) - 1, earlyEnd);
    }

    [Theory]
    [InlineData("2026-01-05 00:00:00", 1)]
    [InlineData("2026-01-11 23:59:59", 1)]
    [InlineData("2026-01-12 00:00:00", 2)]
    [InlineData("2026-01-18 23:59:59", 2)]
    [InlineData("2026-01-19 00:00:00", 3)]
    public void CyclesTurnAtLocalMidnight(string at, int cycle) =>
        Assert.Equal(cycle, CardCalendar.CycleOf(Local(at, Shanghai), Local("2026-01-05 00:00:00", Shanghai), 7, Shanghai));

    [Fact]
    public void InAZoneWithDaylightSavingADayIsACalendarDay()
    {
        // 2026-03-08 has 23 hours in New York; validity and cycles still end at local midnight.
        var (begin, end) = CardCalendar.Validity(Local("2026-03-07 12:00:00", NewYork), 2, NewYork);

        Assert.Equal(Local("2026-03-09 00:00:00", NewYork) - 1, end);
        Assert.Equal(2, CardCalendar.CycleOf(Local("2026-03-08 00:00:00", NewYork), begin, 1, NewYork));
        Assert.Equal(47 * 3_600_000L - 1, end - begin);
    }

    [Theory]
    [InlineData("2026-13-01 00:00:00")]
    [InlineData("2026-01-01")]
    [InlineData("2026-01-01T00:00:00")]
    public void OnlyTheSeedsLocalFormatParses(string text) =>
        Assert.False(CardCalendar.TryParseLocal(text, Shanghai, out _));

    [Fact]
    public void UsageSummaryReportsTheLatestCycleWithAUse()
    {
        Assert.Equal(new UsageSummary(0, 0, 0), UsageSummary.Of([]));
        Assert.Equal(new UsageSummary(4, 3, 1), UsageSummary.Of([1, 1, 3, 2]));
    }

    [Fact]
    public void CardCodesAreUniqueUnguessableAndThirteenLong()
    {
        var codes = Enumerable.Range(0, 20_000).Select(_ => CardCodes.New('L')).ToList();

        Assert.Equal(codes.Count, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches("^L[0-9A-HJKMNP-TV-Z]{12}$", c));
        // No walkable sequence: every position after the prefix varies across the whole alphabet.
        for (var i = 1; i < 13; i++)
            Assert.Equal(32, codes.Select(c => c[i]).Distinct().Count());
    }
}
