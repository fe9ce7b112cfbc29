using Patron.Channels;

namespace Patron.Cards;

/// <summary>
/// How far a partner's useTime or saleTime may be from the server clock. Late is normal (a POS
/// that was offline replays its calls), within the channel's bound; more than 5 minutes ahead is not.
/// </summary>
public static class CardTimes
{
    public const int DefaultMaxAgeDays = Channel.DefaultMaxAgeDays;
    public const long MaxAheadMs = 5 * 60_000;

    public static Failure? TooFarAhead(string field, long t, long now) =>
        t > now + MaxAheadMs ? Failure.Invalid(field, "more than 5 minutes in the future") : null;

    /// <summary>Older than <paramref name="maxAgeDays"/> days (of 24 hours) before now; a missing time is now.</summary>
    public static Failure? TooOld(string field, long? t, int maxAgeDays, long now) =>
        t < now - maxAgeDays * 86_400_000L
            ? Failure.Invalid(field, $"more than {maxAgeDays} days in the past; this channel accepts at most {maxAgeDays} days")
            : null;
}
