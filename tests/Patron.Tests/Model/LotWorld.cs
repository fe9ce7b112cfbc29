using System.Globalization;
using CsCheck;
using Patron.Points;
using Patron.Points.Lots;

namespace Patron.Tests.Model;

/// <summary>
/// The points lifecycle's terms, short so that a run of a few operations reaches them: the
/// catalog's points expire after 3 days, the hkl-test channel's after 1, the other channel's
/// points are pending for 2 days, and levels are reviewed every month. Written into the database
/// once the hosts are up (<see cref="LotModelTests"/>); the model reads them here.
/// </summary>
public static class LotCatalog
{
    public const string Expiry = "days:3";
    public const string HklTestExpiry = "days:1";
    public const int OtherPendingDays = 2;
    public const int ReviewMonths = 1;

    public static readonly PointsPolicy Policy =
        new(ModelCatalog.Levels, PointsExpiry.Parse(Expiry)!, ReviewMonths, ModelCatalog.Zone);

    /// <summary>A change's own terms: by channel (0 hkl-test, 1 other), none for an operator's.</summary>
    public static Patron.Points.LotTerms? Of(int? channel) => channel switch
    {
        0 => new(0, PointsExpiry.Parse(HklTestExpiry)),
        1 => new(OtherPendingDays, null),
        _ => null,
    };
}

/// <summary>
/// Runs of the lifecycle: earnings on two channels (one pending), spends beyond the balance,
/// reversals of earlier earnings' bills, clearings, operators' changes, Level/Set, the clock moved
/// by hours or a month, and the settling job run on either host.
/// </summary>
public static class LotWorldGen
{
    private static readonly Gen<int> Member = Gen.Frequency((12, Gen.Int[0, ModelCatalog.Members - 1]), (1, Gen.Const(ModelCatalog.Members)));

    public const int Templates = 8;

    private static readonly Gen<PointsTemplate> Template = Gen.Select(Member,
        Gen.Frequency((3, Gen.Const("P")), (1, Gen.OneOf("S", "R", "C")), (3, Gen.Const("E")), (1, Gen.Const("Z")), (3, Gen.Const("-"))),
        Gen.Int[0, 2], Gen.Int[0, 1], Gen.Int[0, Templates - 1],
        (member, type, n, channel, of) => type switch
        {
            "E" => new PointsTemplate(member, "E", new long[] { -10, -30, -80 }[n], channel),
            "Z" => new PointsTemplate(member, "Z", n == 2 ? -20 : 0, channel),
            "-" => new PointsTemplate(member, "P", new long[] { -15, -40, -100 }[n], channel, of),
            _ => new PointsTemplate(member, type, new long[] { 20, 60, 100 }[n], channel),
        });

    /// <summary>Days that end months of different lengths, so that reviews fall on clamped anniversaries; hours on both sides of midnight.</summary>
    private static readonly Gen<DateTimeOffset> Start = Gen.Select(Gen.OneOf("2026-03-31", "2026-05-30", "2026-08-31", "2026-10-15", "2027-01-29"),
        Gen.OneOf(0, 9, 23), Gen.OneOf(0, 45), (day, hour, minute) =>
            new DateTimeOffset(DateTime.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture).AddHours(hour).AddMinutes(minute), TimeSpan.FromHours(8)));

    public static readonly Gen<World> World = Gen.Select(Template.Array[Templates], Start, (points, start) => new World(points, [], [], start));

    private static readonly Gen<int> Alter = Gen.Frequency((8, Gen.Const(0)), (1, Gen.Const(1)), (1, Gen.Const(2)));

    public static Gen<Op>[] Ops(int hosts)
    {
        var host = Gen.Int[0, hosts - 1];
        var send = Gen.Select(host, Gen.Int[0, Templates - 1], Alter, (h, t, a) => (Op)new SendPoints(h, t, a));
        return
        [
            send, send, send,
            Gen.Select(host, Member, Gen.OneOf("C", "E", "Z"), Gen.OneOf(10L, 45L, -25L),
                (h, m, type, change) => (Op)new Adjust(h, m, type, type switch { "E" => -Math.Abs(change), "Z" => 0, _ => change })),
            // Hours cross pending days and expiry days; a month reaches the level review.
            Gen.Select(host, Gen.Frequency((4, Gen.OneOf(1, 7, 20)), (3, Gen.OneOf(30, 49, 75)), (1, Gen.OneOf(24 * 30, 24 * 31))),
                (h, hours) => (Op)new Advance(h, hours)),
            Gen.Select(host, h => (Op)new Settle(h)),
            Gen.Select(host, h => (Op)new Settle(h)),
            Gen.Select(host, Member, Gen.OneOf(1, 2, 64), (h, m, level) => (Op)new SetLevel(h, m, level)),
        ];
    }
}
