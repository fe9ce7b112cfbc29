using System.Globalization;
using System.Net.Http;
using System.Text;
using CsCheck;
using Patron.Tests.Infrastructure;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>Members, their ledgers and cards.</summary>
public abstract partial class NativeApiHostileInputTests
{
    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static Gen<string> AnyLimit => Gen.Frequency((2, Gen.Int[-5, 300].Select(n => n.ToString(CultureInfo.InvariantCulture))), (2, Hostile.OddNumber), (1, Hostile.OddString));

    private static Gen<string> AnyCursor => Gen.Frequency((2, Gen.Long.Select(Id)), (2, Hostile.OddNumber), (1, Hostile.OddString));

    [Fact]
    public Task MemberSearchAnswersHostileQueries() => FuzzAsync("GET /members", Reads("search", HostileUrl.Query(
            ("q", Gen.Frequency((2, Gen.OneOf("M0001", "13800000012", "1380000", "会员3", "1", "41", "种子", "%", "_", "'")), (3, Hostile.OddString))),
            ("limit", AnyLimit))
        .Select(q => "/members" + q)), Answered());

    [Fact]
    public Task MemberLookupAnswersHostileIds() => FuzzAsync("GET /members/{id}", Reads("member", AnyMember.Select(id => $"/members/{id}")), Answered());

    [Fact]
    public Task LedgerAnswersHostileQueries() => FuzzAsync("GET /members/{id}/points", Reads("ledger", Gen.Select(AnyMember,
        HostileUrl.Query(("before", AnyCursor), ("limit", AnyLimit)), (id, q) => $"/members/{id}/points{q}")), Answered());

    [Fact]
    public Task LedgerExportAnswersHostileIds() => FuzzAsync("GET /members/{id}/points.csv", Reads("export", Gen.Select(AnyMember,
        HostileUrl.Query(("before", AnyCursor)), (id, q) => $"/members/{id}/points.csv{q}")), Answered("text/csv"));

    [Fact]
    public Task MemberCardsAnswerHostileIds() => FuzzAsync("GET /members/{id}/cards", Reads("cards", AnyMember.Select(id => $"/members/{id}/cards")), Answered());

    // ---- creating and editing members ----

    private static readonly Gen<WireField?>[] NewMember =
    [
        Maybe(EitherRaw("id", Gen.Long[1000, long.MaxValue].Select(Id))), Maybe(Either("code", Gen.Int[0, 999_999].Select(n => $"FZ{n}"))),
        Maybe(Either("name", Gen.OneOf("新会员", "Ann", ""))), Maybe(Either("phone", Gen.OneOf("13900000001", "", "+86 139 0000"))),
    ];

    /// <summary>A field no create accepts: too long, blank, taken (as is or once trimmed), below 1, or of the wrong type.</summary>
    private static readonly Gen<WireField[]> MemberPoison = Gen.Frequency(
        (2, One(LongText(99, 300).Select(t => Str("name", t)), LongText(31, 100).Select(t => Str("phone", t)), LongText(31, 100).Select(t => Str("code", t)))),
        (1, One(Gen.OneOf("", " ", "\t\r\n", "\u3000").Select(c => Str("code", c)))),
        (2, One(Gen.Select(Gen.Int[1, 40], Gen.OneOf("{0}", " {0}", "{0}\t"), (i, f) => Str("code", string.Format(CultureInfo.InvariantCulture, f, $"M{i:D4}"))),
            RealMember.Select(id => Raw("id", Id(id))))),
        (1, One(Gen.OneOf("0", "-1", "-0", Id(long.MinValue), "\"0\"", "\"-5\"").Select(v => Raw("id", v)))),
        (2, One(NotAnInteger("id"), NotAString("code"), NotAString("name"), NotAString("phone"))));

    // Four poisons, three of them 1000 characters long: no mutation of 8 edits repairs them all.
    private static readonly byte[] MemberSeed = Encoding.UTF8.GetBytes(
        $$"""{"id":-1,"code":"{{new string('c', 1000)}}","name":"{{new string('n', 1000)}}","phone":"{{new string('p', 1000)}}"}""");

    [Fact]
    public Task MemberCreationRefusesHostileInput() => FuzzAsync("POST /members",
        Calls("POST", "new", Gen.Const("/members"), Bodies(WithPoison(NewMember, MemberPoison), MemberSeed, randomObjects: false)), Refused,
        (HttpMethod.Post, $"{Api}/members", """{"name":"after"}"""));

    private static readonly Gen<WireField?>[] MemberEdit = [Maybe(Either("name", Gen.OneOf("改名", "Ann", ""))), Maybe(Either("phone", Gen.OneOf("13900000001", "")))];

    [Fact]
    public Task MemberEditRefusesHostileInput() => FuzzAsync("PUT /members/{id}", Gen.Frequency(
            (5, Calls("PUT", "real", RealMember.Select(id => $"/members/{id}"), WithPoison(MemberEdit,
                One(LongText(99, 300).Select(t => Str("name", t)), LongText(31, 100).Select(t => Str("phone", t)), NotAString("name"), NotAString("phone")))
                .Select(f => ("fields", (byte[]?)Hostile.Json(f))))),
            (5, Calls("PUT", "unknown", UnknownMember.Select(id => $"/members/{id}"), Bodies(Hostile.Shuffled(MemberEdit), """{"name":"x","phone":"1"}"""u8.ToArray())))),
        Refused, (HttpMethod.Put, $"{Api}/members/2", """{"name":"after"}"""));

    // ---- operators' adjustments ----

    private static bool IsBusiType(WireField f) => f.Text.Length == 1 && "PSRCEZ".Contains(f.Text[0]);

    private static readonly Gen<WireField?>[] Adjustment =
    [
        Either("busiType", Gen.OneOf("P", "S", "R", "C", "E", "Z")).Select(f => (WireField?)f), Maybe(Either("busiBillNum", Gen.Int[1, 99_999].Select(n => $"B-{n}"))),
        Maybe(EitherRaw("changeValue", Gen.Long[-2000, 2000].Select(Id))),
    ];

    /// <summary>What no member's balance allows (the richest holds 1000), or what no rule accepts.</summary>
    private static readonly Gen<WireField[]> AdjustmentPoison = Gen.Frequency(
        (2, Hostile.Odd("busiType").Where(f => !IsBusiType(f)).Select(f => new[] { f })),
        (1, One(Gen.Const(Str("busiBillNum", "")), LongText(19, 80).Select(t => Str("busiBillNum", t)), NotAString("busiBillNum"))),
        (2, One(NotAnInteger("changeValue"))),
        (2, Gen.OneOf(("P", "0"), ("S", "0"), ("R", "0"), ("C", "0"), ("E", "0"), ("E", "5"), ("Z", "5"), ("E", "-1001"), ("E", Id(long.MinValue)), ("Z", "-999"), ("Z", "1"))
            .Select(c => new[] { Str("busiType", c.Item1), Raw("changeValue", c.Item2) })));

    [Fact]
    public Task AdjustmentRefusesHostileInput() => FuzzAsync("POST /members/{id}/points", Gen.Frequency(
            (5, Calls("POST", "real", RealMember.Select(id => $"/members/{id}/points"),
                WithPoison(Adjustment, AdjustmentPoison).Select(f => ("fields", (byte[]?)Hostile.Json(f))))),
            (1, Calls("POST", "overflow", Gen.Const($"/members/{Rich}/points"), // past long.MaxValue from 1000 points
                WithPoison(Adjustment, Gen.OneOf("P", "S", "C").Select(t => new[] { Str("busiType", t), Raw("changeValue", Id(long.MaxValue)) }))
                .Select(f => ("fields", (byte[]?)Hostile.Json(f))))),
            (4, Calls("POST", "unknown", UnknownMember.Select(id => $"/members/{id}/points"),
                Bodies(Hostile.Shuffled(Adjustment), """{"busiType":"P","busiBillNum":"B-1","changeValue":10}"""u8.ToArray())))),
        Refused, (HttpMethod.Post, $"{Api}/members/2/points", """{"busiType":"P","changeValue":5}"""));
}
