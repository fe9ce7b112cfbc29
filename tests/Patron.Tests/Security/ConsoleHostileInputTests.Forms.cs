using System.Globalization;
using CsCheck;
using Patron.Tests.Infrastructure;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>The console's forms, one test each.</summary>
public abstract partial class ConsoleHostileInputTests
{
    // ---- members ----

    [Fact]
    public Task MemberCreationFormRefusesHostileInput() => FuzzAsync("POST /console/members", s => Posts(s, "new", Gen.Const("/console/members"),
            WithPoison([Either("code", Gen.Int[0, 999_999].Select(n => $"FZ{n}")), Either("name", Gen.OneOf("新会员", "")), Either("phone", Gen.OneOf("13900000001", ""))],
                Gen.Frequency(
                    (2, One(LongText(99, 300).Select(t => Str("name", t)), LongText(31, 100).Select(t => Str("phone", t)), LongText(31, 100).Select(t => Str("code", t)))),
                    (2, Gen.Select(Gen.Int[1, 40], Gen.OneOf("{0}", " {0}", "{0}\t"), (i, f) => new[] { Str("code", string.Format(CultureInfo.InvariantCulture, f, $"M{i:D4}")) })),
                    (1, One(Gen.OneOf("\u0000", "M\u0000", "a\u0000b").SelectMany(t => Gen.OneOf("code", "name", "phone").Select(k => Str(k, t))))))),
            Seed($"code={new string('c', 1000)}&name={new string('n', 1000)}&phone={new string('p', 1000)}")),
        Refused());

    private static readonly Gen<WireField>[] Adjustment =
        [Either("busiType", Gen.OneOf("P", "S", "R", "C", "E", "Z")), Either("busiBillNum", Gen.Int[1, 99_999].Select(n => $"B-{n}")), Either("changeValue", Gen.Long[-2000, 2000].Select(n => n.ToString(CultureInfo.InvariantCulture)))];

    // A multipart value loses a leading byte-order mark, so "\uFEFFP" is P there.
    private static bool IsBusiType(WireField f) => f.Text.Trim('\uFEFF', ' ') is [var c] && "PSRCEZ".Contains(c);

    /// <summary>What no balance allows or no rule accepts; a change the binder cannot read counts as 0, which only a clearing (Z) accepts.</summary>
    private static readonly Gen<WireField[]> AdjustmentPoison = Gen.Frequency(
        (2, Hostile.Odd("busiType").Where(f => !IsBusiType(f) && f.Text.Length > 0).Select(f => new[] { f })),
        (1, One(LongText(19, 80).Select(t => Str("busiBillNum", t)), Gen.OneOf("B\u0000", "\u0000").Select(t => Str("busiBillNum", t)))),
        (2, Gen.Select(Gen.OneOf("P", "S", "R", "C", "E"), Gen.OneOf("abc", "1.5", "1e3", "9223372036854775808", "", "１２", "1,000", "true"), // (the binder reads 0x10 as 16)
            (t, v) => new[] { Str("busiType", t), Str("changeValue", v) })),
        (2, Gen.OneOf(("P", "0"), ("S", "0"), ("C", "0"), ("E", "0"), ("E", "5"), ("Z", "5"), ("E", "-1001"), ("E", long.MinValue.ToString(CultureInfo.InvariantCulture)), ("Z", "-999"))
            .Select(c => new[] { Str("busiType", c.Item1), Str("changeValue", c.Item2) })));

    [Fact]
    public Task AdjustmentFormRefusesHostileInput() => FuzzAsync("POST /console/members/{id}?handler=Adjust", s => Gen.Frequency(
            (5, Posts(s, "real", RealMember.Select(id => $"/console/members/{id}?handler=Adjust"), WithPoison(Adjustment, AdjustmentPoison),
                Seed($"busiType={new string('Q', 1000)}&busiBillNum={new string('b', 1000)}&changeValue=0"))),
            (4, Posts(s, "unknown", UnknownMember.Select(id => $"/console/members/{id}?handler=Adjust"), Hostile.Shuffled([.. Adjustment.Select(g => g.Select(f => (WireField?)f))]),
                Seed("busiType=P&busiBillNum=B-1&changeValue=10")))),
        Refused("id=\"error\""));

    private static readonly Gen<WireField>[] MemberEdit = [Either("name", Gen.OneOf("改名", "Ann")), Either("phone", Gen.OneOf("13900000001", "1"))];

    [Fact]
    public Task MemberEditFormRefusesHostileInput() => FuzzAsync("POST /console/members/{id}?handler=Edit", s => Gen.Frequency(
            (5, Posts(s, "real", RealMember.Select(id => $"/console/members/{id}?handler=Edit"), WithPoison(MemberEdit, Gen.Frequency(
                    (2, One(LongText(99, 300).Select(t => Str("name", t)), LongText(31, 100).Select(t => Str("phone", t)))),
                    (1, One(Gen.OneOf("\u0000", "a\u0000b").SelectMany(t => Gen.OneOf("name", "phone").Select(k => Str(k, t))))))),
                Seed($"name={new string('n', 1000)}&phone={new string('p', 1000)}"))),
            (4, Posts(s, "unknown", UnknownMember.Select(id => $"/console/members/{id}?handler=Edit"), Hostile.Shuffled([.. MemberEdit.Select(g => g.Select(f => (WireField?)f))]),
                Seed("name=x&phone=1")))),
        Refused("id=\"error\""));

    // ---- cards ----

    private static readonly string[] RealCards = [TestCatalog.Card, TestCatalog.OffSaleCard];

    private static Gen<WireField[]> CardFields(bool withId) => Gen.Select(
        withId ? Either("Form.Id", Gen.Int[0, 999_999].Select(n => $"FZ-CARD-{n}")).Select(f => new[] { f }) : Gen.Const(Array.Empty<WireField>()),
        Either("Form.Name", Gen.OneOf("新卡", "x")), Either("Form.Price", Gen.OneOf("0", "19.9", "19.90", "100")),
        Either("Form.ValidDays", Gen.Int[1, 36600].Select(n => n.ToString(CultureInfo.InvariantCulture))), Gen.OneOf("true", "false", "on", "").Select(v => Str("Form.OnSale", v)),
        Gen.Int[0, 3].SelectMany(n => Gen.Select(Gen.OneOf("面", "x"), Gen.Int[1, 100], Gen.Int[1, 30], Gen.Int[1, 5], (name, total, days, num) => (name, total, days, num)).Array[n, n])
            .Select(rows => rows.SelectMany((r, i) => new[] { Str($"Form.Products[{i}].Id", $"P-FZ{i}"), Str($"Form.Products[{i}].Name", r.name),
                Str($"Form.Products[{i}].TotalUsedNum", $"{r.total}"), Str($"Form.Products[{i}].CycleDays", $"{r.days}"), Str($"Form.Products[{i}].CycleNum", $"{r.num}") }).ToArray()),
        (id, name, price, days, onSale, products) => (WireField[])[.. id, name, price, days, onSale, .. products]);

    /// <summary>A card no operator may define. A number the binder cannot read keeps its default (a valid one), so poisons are values it reads.</summary>
    private static Gen<WireField[]> CardPoison(bool withId) => Gen.Frequency(
        (withId ? 2 : 0, One(LongText(31, 100).Select(t => Str("Form.Id", t)), Gen.OneOf("a\u0000", "\u0000").Select(t => Str("Form.Id", t)),
            Gen.Select(Gen.OneOf(RealCards), Gen.OneOf("{0}", " {0}", "{0}\t"), (c, f) => Str("Form.Id", string.Format(CultureInfo.InvariantCulture, f, c))))),
        (1, One(Gen.OneOf("", " ", "\u0000").Select(v => Str("Form.Name", v)), LongText(99, 200).Select(t => Str("Form.Name", t)))),
        (2, One(Gen.OneOf("-0.01", "-1", "1.001", "0.005", "10000000000000000", "79228162514264337593543950335").Select(p => Str("Form.Price", p)))),
        (1, One(Gen.OneOf("0", "-1", "36601", "2147483647").Select(d => Str("Form.ValidDays", d)))),
        (3, Gen.OneOf(
            new[] { Str("Form.Products[0].Id", "P-A"), Str("Form.Products[0].Name", "a"), Str("Form.Products[1].Id", " P-A"), Str("Form.Products[1].Name", "b") },
            [Str("Form.Products[0].Id", "P-A"), Str("Form.Products[0].Name", "")],
            [Str("Form.Products[0].Id", "P-A"), Str("Form.Products[0].Name", "a"), Str("Form.Products[0].CycleNum", "0")],
            [Str("Form.Products[0].Id", "P-A"), Str("Form.Products[0].Name", "a"), Str("Form.Products[0].TotalUsedNum", "-1")],
            [Str("Form.Products[0].Id", "P\u0000"), Str("Form.Products[0].Name", "a")],
            [Str("Form.Products[0].Id", new string('p', 33)), Str("Form.Products[0].Name", "a")],
            [Str("Form.Products[0].Id", " "), Str("Form.Products[1].Id", "")])) // no product at all
        );

    private static Gen<WireField[]> CardWithPoison(bool withId) => Gen.Select(CardFields(withId), CardPoison(withId), (fields, poison) =>
        {
            var products = poison.Any(p => p.Key.StartsWith("Form.Products", StringComparison.Ordinal));
            return fields.Where(f => poison.All(p => p.Key != f.Key) && !(products && f.Key.StartsWith("Form.Products", StringComparison.Ordinal))).Concat(poison).ToArray();
        })
        .SelectMany(all => Hostile.Shuffled([.. all.Select(f => Gen.Const<WireField?>(f))]));

    private static readonly string CardSeed = $"Form.Id={new string('i', 1000)}&Form.Name={new string('n', 1000)}&Form.Price=-1&Form.ValidDays=0"
        + $"&Form.Products[0].Id={new string('p', 1000)}&Form.Products[0].Name=&Form.Products[0].TotalUsedNum=0";

    [Fact]
    public Task CardFormRefusesHostileInput() => FuzzAsync("POST /console/cards", s => Posts(s, "new", Gen.Const("/console/cards"), CardWithPoison(withId: true), Seed(CardSeed)),
        Refused("id=\"card-error\""));

    [Fact]
    public Task CardEditFormRefusesHostileInput() => FuzzAsync("POST /console/cards/{id}", s => Gen.Frequency(
            (5, Posts(s, "real", Gen.OneOf(RealCards).Select(c => $"/console/cards/{c}"), CardWithPoison(withId: false), Seed(CardSeed))),
            (4, Posts(s, "unknown", UnknownName(RealCards, path: true).Select(c => $"/console/cards/{HostileUrl.Escape(c)}"), CardFields(withId: false),
                Seed("Form.Name=x&Form.Price=1&Form.ValidDays=30&Form.Products[0].Id=P-NEW&Form.Products[0].Name=x")))),
        Refused("id=\"card-error\""));

    [Fact]
    public Task OffSaleFormRefusesHostileCardIds() => FuzzAsync("POST /console/cards?handler=OffSale", s => Gen.Frequency(
            (8, Posts(s, "unknown", UnknownName(RealCards).Select(c => $"/console/cards?handler=OffSale&id={HostileUrl.Escape(c)}"), Gen.Const(Array.Empty<WireField>()), Seed(""))),
            (1, Posts(s, "real", Gen.OneOf(RealCards).Select(c => $"/console/cards?handler=OffSale&id={c}"), Gen.Const(Array.Empty<WireField>()), Seed(""),
                WrongCallers(s, viewer: true)))),
        Refused(redirects: "/console/cards"));

    // ---- channels ----

    private static readonly string[] RealChannels = ["hkl-test", "other", "cards-only", "aes-partner"];

    private static readonly Gen<WireField> AnyScopes = Gen.Frequency(
        (3, Gen.OneOf("points.add", "card.sale", "card.use", "card.refund", "card.query").Array[0, 5].Select(s => List("scopes", [.. s.Distinct().Select(x => $"\"{x}\"")]))),
        (1, Hostile.Odd("scopes")));

    private static readonly Gen<WireField[]> BadScopes = Gen.Select(Gen.OneOf("points.add", "card.sale").Array[0, 2],
        Gen.OneOf("card.SALE", "points.add ", "*", "card.*", "points", "card.sale\u0000", "\uFF50oints.add", "x"),
        (known, bad) => new[] { List("scopes", [.. known.Append(bad).Select(x => System.Text.Json.JsonSerializer.Serialize(x))]) });

    [Fact]
    public Task ChannelFormRefusesHostileInput() => FuzzAsync("POST /console/channels", s => Posts(s, "new", Gen.Const("/console/channels"),
            WithPoison([Either("name", Gen.Int[0, 999_999].Select(n => $"fz-{n}")), Either("cipher", Gen.OneOf("des-ecb", "aes-gcm")), AnyScopes], Gen.Frequency(
                (2, One(Gen.OneOf(" ", "\t", "\u0000", "a\u0000").Select(n => Str("name", n)), LongText(63, 200).Select(t => Str("name", t)))),
                (2, Gen.Select(Gen.OneOf(RealChannels), Gen.OneOf("{0}", " {0}", "{0}\t"), (c, f) => new[] { Str("name", string.Format(CultureInfo.InvariantCulture, f, c)) })),
                (1, One(Gen.OneOf("DES-ECB", "des", "rot13", " des-ecb", "aes-gcm\u0000").Select(c => Str("cipher", c)))),
                (2, BadScopes))),
            Seed($"name={new string('n', 1000)}&cipher=rot13&scopes=nope")),
        Refused());

    [Fact]
    public Task ScopesFormRefusesHostileInput() => FuzzAsync("POST /console/channels?handler=Scopes", s => Gen.Frequency(
            (5, Posts(s, "real", Gen.OneOf(RealChannels).Select(c => $"/console/channels?handler=Scopes&name={c}"), BadScopes.SelectMany(b => Hostile.Shuffled(Gen.Const<WireField?>(b[0]))),
                Seed(string.Join("&", Enumerable.Repeat("scopes=no.such.scope", 20))))),
            (4, Posts(s, "unknown", UnknownName(RealChannels).Select(c => $"/console/channels?handler=Scopes&name={HostileUrl.Escape(c)}"), AnyScopes.Select(f => new[] { f }),
                Seed("scopes=card.sale")))),
        Refused());

    /// <summary>Days and rates outside the catalog's limits (one that is not a number is -1, outside them too), a burst without its perSecond, a checkbox that is not a tick (blank is no tick), a pendingDays past 90, an expiry that is not one.</summary>
    private static readonly Gen<WireField[]> SettingsPoison = Gen.Frequency(
        (3, Gen.Select(Gen.OneOf("maxUseAgeDays", "maxSaleAgeDays"), Gen.OneOf("0", "32", "-1", "abc", "", "1.5", "99999999999", "３", "31\u0000"),
            (k, v) => new[] { Str(k, v) })),
        (2, Gen.Select(Gen.OneOf("perSecond", "burst"), Gen.OneOf("0", "-5", "100001", "abc", "1e3", "2147483648"), (k, v) => k == "burst"
            ? new[] { Str("perSecond", "5"), Str(k, v) } : new[] { Str(k, v) })),
        (1, Gen.Int[1, 100_000].Select(b => new[] { Str("perSecond", ""), Str("burst", b.ToString(CultureInfo.InvariantCulture)) })),
        (1, Hostile.Odd("billNumIsKey").Where(f => f.Text.Trim('\uFEFF').Trim() is not ("true" or "false" or "")).Select(f => new[] { f })),
        (1, Gen.OneOf("-1", "91", "abc", "1.5", "３", "90\u0000", "99999999999").Select(v => new[] { Str("pendingDays", v) })),
        (1, Gen.OneOf("days:0", "months:12", "months:12:weekEnd", "weeks:3", "never", "days:3\u0000", "DAYS:3", "days:３").Select(v => new[] { Str("expiry", v) })));

    [Fact]
    public Task SettingsFormRefusesHostileInput() => FuzzAsync("POST /console/channels?handler=Settings", s => Gen.Frequency(
            (5, Posts(s, "real", Gen.OneOf(RealChannels).Select(c => $"/console/channels?handler=Settings&name={c}"),
                WithPoison([Gen.OneOf("true", "false").Select(v => Str("billNumIsKey", v)), Gen.Int[1, 31].Select(d => Str("maxUseAgeDays", d.ToString(CultureInfo.InvariantCulture))),
                    Gen.Int[1, 31].Select(d => Str("maxSaleAgeDays", d.ToString(CultureInfo.InvariantCulture))), Gen.Const(Str("perSecond", "")), Gen.Const(Str("burst", ""))], SettingsPoison),
                Seed("maxUseAgeDays=99&maxSaleAgeDays=abc"))),
            (2, Posts(s, "unknown", UnknownName(RealChannels).Select(c => $"/console/channels?handler=Settings&name={HostileUrl.Escape(c)}"),
                Gen.Const(new[] { Str("maxUseAgeDays", "7"), Str("maxSaleAgeDays", "7") }), Seed("maxUseAgeDays=7&maxSaleAgeDays=7")))),
        Refused());

    [Fact]
    public Task RotateFormRefusesHostileChannelNames() => FuzzAsync("POST /console/channels?handler=Rotate", s => Gen.Frequency(
            (8, Posts(s, "unknown", UnknownName(RealChannels).Select(c => $"/console/channels?handler=Rotate&name={HostileUrl.Escape(c)}"), Gen.Const(Array.Empty<WireField>()), Seed(""))),
            (1, Posts(s, "real", Gen.OneOf(RealChannels).Select(c => $"/console/channels?handler=Rotate&name={c}"), Gen.Const(Array.Empty<WireField>()), Seed(""),
                WrongCallers(s, viewer: true)))),
        Refused());

    // ---- levels and operators ----

    [Fact]
    public Task LevelFormRefusesHostileInput() => FuzzAsync("POST /console/levels", s => Posts(s, "level", Gen.Const("/console/levels"), Gen.Frequency(
            // Ids and thresholds that break the order (1 from 0, 64 from 1000); one the binder cannot read is 0, which breaks it too.
            (3, Gen.OneOf(("0", "0"), ("0", "500"), ("abc", "500"), ("2", "0"), ("2", "abc"), ("2", "1000"), ("63", "99999"), ("64", "0"), ("65", "999"), ("255", "1"), ("1", "1000"),
                    ("9999999999", "5"), ("1.5", "5"))
                .SelectMany(p => Either("name", Gen.OneOf("银卡会员", "x")).Where(n => n.Text.Trim().Length is > 0 and <= 64 && !n.Text.Contains('\0'))
                    .Select(n => new[] { Str("id", p.Item1), n, Str("threshold", p.Item2) }))),
            (2, Gen.Select(Gen.Int[0, 255], Gen.OneOf("", " ", "\u0000", new string('n', 65)), Gen.Long[0, 5000], (id, name, t) => new[] { Str("id", $"{id}"), Str("name", name), Str("threshold", $"{t}") })),
            (2, Gen.Select(Gen.Int[0, 255], Gen.OneOf("-1", "-9223372036854775808"), (id, t) => new[] { Str("id", $"{id}"), Str("name", "x"), Str("threshold", t) })),
            (1, Gen.Select(Gen.OneOf("256", "-1", "2147483647", "-2147483648"), Gen.Long[0, 5000], (id, t) => new[] { Str("id", id), Str("name", "x"), Str("threshold", $"{t}") })))
            .SelectMany(f => Hostile.Shuffled([.. f.Select(x => Gen.Const<WireField?>(x))])),
            Seed($"id=300&name={new string('n', 1000)}&threshold=-1")),
        Refused());

    [Fact]
    public Task OperatorFormRefusesHostileInput() => FuzzAsync("POST /console/account?handler=Operator", s => Posts(s, "operator", Gen.Const("/console/account?handler=Operator"),
            WithPoison([Either("user", Gen.Int[0, 999_999].Select(n => $"fz-{n}")), Either("password", Gen.OneOf("a-good-password", "12345678")), Either("role", Gen.OneOf("admin", "viewer"))],
                Gen.Frequency(
                    (2, One(Gen.OneOf(" ", "\t", "\u0000", "a\u0000", TestCatalog.AdminUser, TestCatalog.ViewerUser).Select(u => Str("user", u)), LongText(63, 200).Select(t => Str("user", t)))),
                    (2, One(Hostile.OddChar.Array[1, 7].Select(c => Str("password", new string(c))), LongText(127, 300).Select(t => Str("password", t)))),
                    (2, One(Gen.OneOf("Admin", "VIEWER", "root", " admin", "admin ", "operator", "admin\u0000").Select(r => Str("role", r)))))),
            Seed($"user={new string('u', 1000)}&password=x&role=root")),
        Refused());
}
