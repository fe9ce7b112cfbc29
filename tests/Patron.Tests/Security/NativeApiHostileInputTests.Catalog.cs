using System.Globalization;
using System.Text;
using CsCheck;
using Patron.Tests.Infrastructure;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>What operators define: levels, cards, channels, operators.</summary>
public abstract partial class NativeApiHostileInputTests
{
    // ---- levels: 1 from 0 points, 64 from 1000 ----

    private static readonly Gen<WireField?>[] LevelFields =
        [Either("name", Gen.OneOf("银卡会员", "x")).Select(f => (WireField?)f), EitherRaw("threshold", Gen.Long[0, 5000].Select(Id)).Select(f => (WireField?)f)];

    /// <summary>A threshold that breaks the rule that ids rise with thresholds, for a level id from 0 to 255.</summary>
    private static Gen<string> OutOfOrder(int id) => id switch
    {
        0 => Gen.Long[0, 5000].Select(Id),
        1 => Gen.Long[1000, long.MaxValue].Select(Id),
        < 64 => Gen.Frequency((1, Gen.Const("0")), (2, Gen.Long[1000, long.MaxValue].Select(Id))),
        64 => Gen.Const("0"),
        _ => Gen.Long[0, 1000].Select(Id),
    };

    private static Gen<WireField[]> LevelPoison(int id) => Gen.Frequency(
        (2, OutOfOrder(id).SelectMany(t => Either("name", Gen.OneOf("银卡会员", "x")).Select(n => new[] { n, Raw("threshold", t) }))
            .Where(f => f[0].Text.Trim().Length is > 0 and <= 64)),
        (2, One(Gen.OneOf("", " ", "\t\u3000", "null").Select(n => n == "null" ? Raw("name", n) : Str("name", n)), LongText(63, 200).Select(t => Str("name", t)), NotAString("name"))),
        (2, One(Gen.OneOf("-1", Id(long.MinValue), "\"-5\"").Select(t => Raw("threshold", t)), NotAnInteger("threshold"))));

    private static readonly Gen<string> LevelOutOfRange = Gen.Frequency(
        (2, Gen.Int[256, int.MaxValue].Select(n => n.ToString(CultureInfo.InvariantCulture))), (2, Gen.Int[int.MinValue, -1].Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (1, HostileUrl.Segment(Hostile.OddString).Where(s => !int.TryParse(HostileUrl.Decode(s), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n is < 0 or > 255)));

    [Fact]
    public Task LevelPutRefusesHostileInput() => FuzzAsync("PUT /levels/{id}", Gen.Frequency(
            (5, Gen.Int[0, 255].SelectMany(id => Calls("PUT", "in-range", Gen.Const($"/levels/{id}"),
                WithPoison(LevelFields, LevelPoison(id)).Select(f => ("fields", (byte[]?)Hostile.Json(f)))))),
            (5, Calls("PUT", "out-of-range", LevelOutOfRange.Select(id => $"/levels/{id}"),
                Bodies(Hostile.Shuffled(LevelFields), """{"name":"银卡会员","threshold":500}"""u8.ToArray())))),
        Refused, (HttpMethod.Put, $"{Api}/levels/32", """{"name":"银卡会员","threshold":500}"""));

    // ---- cards ----

    private static readonly string[] RealCards = [TestCatalog.Card, TestCatalog.OffSaleCard];

    private static Gen<WireField?>[] ProductFields(int i) =>
    [
        Either("id", Gen.Const($"P-FZ{i}")).Select(f => (WireField?)f), Either("name", Gen.OneOf("面", "x")).Select(f => (WireField?)f),
        EitherRaw("totalUsedNum", Gen.Int[1, 100].Select(n => n.ToString(CultureInfo.InvariantCulture))).Select(f => (WireField?)f),
        EitherRaw("cycleDays", Gen.Int[1, 30].Select(n => n.ToString(CultureInfo.InvariantCulture))).Select(f => (WireField?)f),
        EitherRaw("cycleNum", Gen.Int[1, 5].Select(n => n.ToString(CultureInfo.InvariantCulture))).Select(f => (WireField?)f),
    ];

    private static string Products(IEnumerable<WireField[]> products) => "[" + string.Join(",", products.Select(p => Encoding.UTF8.GetString(Hostile.Json(p)))) + "]";

    private static readonly Gen<WireField> AnyProducts = Gen.Frequency(
        (4, Gen.Int[1, 3].SelectMany(n => Combine([.. Enumerable.Range(0, n).Select(i => Hostile.Shuffled(ProductFields(i)))])).Select(p => Raw("products", Products(p)))),
        (1, Hostile.Odd("products")));

    private static Gen<WireField[]> ProductPoisoned(Gen<WireField[]> poison) =>
        WithPoison(ProductFields(0), poison).Select(p => new[] { Raw("products", Products([p])) });

    /// <summary>A product list no card accepts: none, a null, a blank, long or repeated id (as is or once trimmed), a blank or long name, a count below 1, a wrong type.</summary>
    private static readonly Gen<WireField[]> ProductsPoison = Gen.Frequency(
        (1, One(Gen.OneOf("null", "[]", "[null]", "[{}]", "\"P-1\"", "{}", "[[]]", "[1]").Select(p => Raw("products", p)))),
        (1, Gen.OneOf(("P-A", "P-A"), ("P-A", " P-A"), ("P-A", "P-A\t"), ("P-A", "P-A\u3000")).Select(ids => new[]
            { Raw("products", $$"""[{"id":"{{ids.Item1}}","name":"a","totalUsedNum":1,"cycleDays":1,"cycleNum":1},{"id":{{System.Text.Json.JsonSerializer.Serialize(ids.Item2)}},"name":"b","totalUsedNum":1,"cycleDays":1,"cycleNum":1}]""") })),
        (3, ProductPoisoned(Gen.Frequency(
            (1, One(Gen.OneOf("", " ", "\r\n").Select(v => Str("id", v)), LongText(31, 100).Select(t => Str("id", t)), NotAString("id"))),
            (1, One(Gen.OneOf("", " ").Select(v => Str("name", v)), LongText(99, 200).Select(t => Str("name", t)), NotAString("name"))),
            (2, One(Gen.Select(Gen.OneOf("totalUsedNum", "cycleDays", "cycleNum"), Gen.OneOf("0", "-1", Id(int.MinValue), "\"0\""), Raw),
                Gen.OneOf("totalUsedNum", "cycleDays", "cycleNum").SelectMany(NotAnInteger)))))));

    private static readonly Gen<WireField?>[] CardFields =
    [
        Either("id", Gen.Int[0, 999_999].Select(n => $"FZ-CARD-{n}")).Select(f => (WireField?)f), Either("name", Gen.OneOf("新卡", "x")).Select(f => (WireField?)f),
        EitherRaw("price", Gen.OneOf("0", "19.9", "19.90", "\"5.5\"", "100")).Select(f => (WireField?)f),
        EitherRaw("validDays", Gen.Int[1, 36600].Select(n => n.ToString(CultureInfo.InvariantCulture))).Select(f => (WireField?)f),
        Maybe(EitherRaw("onSale", Gen.OneOf("true", "false"))), AnyProducts.Select(f => (WireField?)f),
    ];

    /// <summary>A card no operator may define, with the product poisons; <paramref name="withId"/> when the body's id counts (a create).</summary>
    private static Gen<WireField[]> CardPoison(bool withId) => Gen.Frequency(
        (withId ? 2 : 0, One(Gen.OneOf("", " ", "\u3000").Select(v => Str("id", v)), LongText(31, 100).Select(t => Str("id", t)), NotAString("id"),
            Gen.Select(Gen.OneOf(RealCards), Gen.OneOf("{0}", " {0}", "{0}\t"), (c, f) => Str("id", string.Format(CultureInfo.InvariantCulture, f, c))))),
        (1, One(Gen.OneOf("", " ").Select(v => Str("name", v)), LongText(99, 200).Select(t => Str("name", t)), NotAString("name"))),
        (2, One(Gen.OneOf("-0.01", "-1", "1.001", "0.005", "1e-3", "\"abc\"", "true", "[]", "1e400", "1E+30", "79228162514264337593543950336", "\"NaN\"", "10000000000000000", "1e16")
            .Select(p => Raw("price", p)))),
        (1, One(Gen.OneOf("0", "-1", "36601", Id(int.MaxValue), "2147483648").Select(d => Raw("validDays", d)), NotAnInteger("validDays"))),
        (1, One(Gen.OneOf("\"yes\"", "1", "0", "\"true\"", "[]").Select(v => Raw("onSale", v)))),
        (3, ProductsPoison));

    // Id and name 1000 characters long, and everything else wrong too.
    private static readonly byte[] CardSeed = Encoding.UTF8.GetBytes(
        $$"""{"id":"{{new string('i', 1000)}}","name":"{{new string('n', 1000)}}","price":-1.001,"validDays":0,"onSale":true,"products":[{"id":"{{new string('p', 1000)}}","name":"","totalUsedNum":0,"cycleDays":0,"cycleNum":0}]}""");

    private const string ValidCard = """{"id":"L-AFTER","name":"新卡","price":19.90,"validDays":60,"onSale":true,"products":[{"id":"P-1","name":"面","totalUsedNum":4,"cycleDays":7,"cycleNum":1}]}""";

    [Fact]
    public Task CardCreationRefusesHostileInput() => FuzzAsync("POST /cards",
        Calls("POST", "new", Gen.Const("/cards"), Bodies(WithPoison(CardFields, CardPoison(withId: true)), CardSeed)), Refused,
        (HttpMethod.Post, $"{Api}/cards", ValidCard));

    private static readonly Gen<string> UnknownCard = UnknownName(RealCards);

    [Fact]
    public Task CardEditRefusesHostileInput() => FuzzAsync("PUT /cards/{id}", Gen.Frequency(
            (5, Calls("PUT", "real", Gen.OneOf(RealCards).Select(c => $"/cards/{c}"),
                WithPoison(CardFields, CardPoison(withId: false)).Select(f => ("fields", (byte[]?)Hostile.Json(f))))),
            (5, Calls("PUT", "unknown", UnknownCard.Select(c => $"/cards/{c}"), Bodies(Hostile.Shuffled(CardFields), Encoding.UTF8.GetBytes(ValidCard))))),
        Refused, (HttpMethod.Put, $"{Api}/cards/{TestCatalog.Card}", ValidCard.Replace("L-AFTER", TestCatalog.Card)));

    private static readonly Gen<(string, string)> ViewerOrWorse = Gen.Frequency(
        (3, Gen.Const(("Bearer " + TestCatalog.ViewerToken, "viewer"))), (1, Gen.OneOf(BadAuth).Select(a => (a, "bad-auth"))));

    private static readonly Gen<(string Kind, byte[]? Body)> NoBody = Gen.Frequency(
        (4, Gen.Const<(string, byte[]?)>(("none", null))), (1, Hostile.JsonAttack.Select(b => ("junk", (byte[]?)b))));

    [Fact]
    public Task TakingOffSaleRefusesHostileCardIds() => FuzzAsync("POST /cards/{id}/off-sale", Gen.Frequency(
            (8, Calls("POST", "unknown", UnknownCard.Select(c => $"/cards/{c}/off-sale"), NoBody)),
            (1, Calls("POST", "real", Gen.OneOf(RealCards).Select(c => $"/cards/{c}/off-sale"), NoBody, ViewerOrWorse))),
        Refused, (HttpMethod.Post, $"{Api}/cards/{TestCatalog.Card}/off-sale", null));

    // ---- channels ----

    private static string[] RealChannels => ["hkl-test", "other", "cards-only", "aes-partner"];

    private static readonly string[] KnownScopes = ["points.add", "card.sale", "card.use", "card.refund", "card.query"];

    private static readonly Gen<WireField> AnyScopes = Gen.Frequency(
        (3, Gen.OneOf(KnownScopes).Array[0, 5].Select(s => List("scopes", [.. s.Distinct().Select(x => System.Text.Json.JsonSerializer.Serialize(x))]))),
        (1, Hostile.Odd("scopes")));

    private static readonly Gen<WireField?>[] ChannelEdit =
        [Maybe(Either("cipher", Gen.OneOf("des-ecb", "aes-gcm"))), Maybe(AnyScopes)];

    private static readonly Gen<WireField[]> ChannelEditPoison = Gen.Frequency(
        (2, One(Gen.OneOf("DES-ECB", "des", "aes", "", " des-ecb", "aes-gcm\u0000", "rot13", "des-ecb ").Select(c => Str("cipher", c)), NotAString("cipher"))),
        (2, Gen.Select(Gen.OneOf(KnownScopes).Array[0, 3], Gen.OneOf("card.SALE", "points.add ", "", "*", "card.*", "points", "card.sale\u0000", "\uFF50oints.add"),
            (known, bad) => new[] { List("scopes", [.. known.Append(bad).Select(x => System.Text.Json.JsonSerializer.Serialize(x))]) })),
        (1, One(Gen.OneOf("\"card.sale\"", "[1]", "{}", "[[\"card.sale\"]]", "[true]", "1").Select(v => Raw("scopes", v)))));

    /// <summary>The edit's poisons, or a pendingDays out of 0–90 or an expiry that is not PointsExpiry's text (creation takes neither).</summary>
    private static readonly Gen<WireField[]> ChannelEditOnlyPoison = Gen.Frequency(
        (4, ChannelEditPoison),
        (1, One(Gen.OneOf("days:0", "days:36601", "months:12", "months:0:monthEnd", "months:1201:yearEnd", "months:12:weekEnd", "weeks:3", "days:-1",
            "DAYS:3", "days:3\u0000", "never", "days: 3", "days:３", "months:12:monthend").Select(e => Str("expiry", e)), NotAString("expiry"))),
        (1, One(Gen.OneOf("-1", "91", "2147483648", "1.5", "\"x\"", "[]").Select(v => Raw("pendingDays", v)))));

    /// <summary>A name no new channel may have: blank, long, taken (as is or once trimmed); or any of the edit's poisons.</summary>
    private static readonly Gen<WireField[]> ChannelPoison = Gen.Frequency(
        (2, One(Gen.OneOf("", " ", "\t").Select(n => Str("name", n)), LongText(63, 200).Select(t => Str("name", t)), NotAString("name"), Gen.Const(Raw("name", "null")))),
        (2, Gen.Select(Gen.OneOf(RealChannels), Gen.OneOf("{0}", " {0}", "{0}\t", "{0}\u3000"), (c, f) => new[] { Str("name", string.Format(CultureInfo.InvariantCulture, f, c)) })),
        (3, ChannelEditPoison));

    private static readonly byte[] ChannelSeed = Encoding.UTF8.GetBytes($$"""{"name":"{{new string('n', 1000)}}","cipher":"rot13","scopes":["nope"]}""");

    [Fact]
    public Task ChannelCreationRefusesHostileInput() => FuzzAsync("POST /channels",
        Calls("POST", "new", Gen.Const("/channels"), Bodies(WithPoison(
            [Either("name", Gen.Int[0, 999_999].Select(n => $"fz-{n}")).Select(f => (WireField?)f), .. ChannelEdit], ChannelPoison), ChannelSeed)),
        Refused, (HttpMethod.Post, $"{Api}/channels", """{"name":"fz-after","scopes":["card.sale"]}"""));

    private static readonly Gen<string> UnknownChannel = UnknownName(RealChannels);

    [Fact]
    public Task ChannelEditRefusesHostileInput() => FuzzAsync("PUT /channels/{name}", Gen.Frequency(
            (5, Calls("PUT", "real", Gen.OneOf(RealChannels).Select(c => $"/channels/{c}"),
                WithPoison(ChannelEdit, ChannelEditOnlyPoison).Select(f => ("fields", (byte[]?)Hostile.Json(f))))),
            (5, Calls("PUT", "unknown", UnknownChannel.Select(c => $"/channels/{c}"),
                Bodies(Hostile.Shuffled(ChannelEdit), """{"cipher":"des-ecb","scopes":["card.sale"]}"""u8.ToArray())))),
        Refused, (HttpMethod.Put, $"{Api}/channels/other", """{"scopes":["points.add"]}"""));

    [Fact]
    public Task KeyRotationRefusesHostileChannelNames() => FuzzAsync("POST /channels/{name}/rotate", Gen.Frequency(
            (8, Calls("POST", "unknown", UnknownChannel.Select(c => $"/channels/{c}/rotate"), NoBody)),
            (1, Calls("POST", "real", Gen.OneOf(RealChannels).Select(c => $"/channels/{c}/rotate"), NoBody, ViewerOrWorse))),
        Refused, (HttpMethod.Post, $"{Api}/channels/other/rotate", null));

    // ---- operators ----

    private static readonly Gen<WireField?>[] NewOperator =
    [
        Either("user", Gen.Int[0, 999_999].Select(n => $"fz-{n}")).Select(f => (WireField?)f),
        Either("password", Gen.OneOf("a-good-password", "12345678")).Select(f => (WireField?)f), Either("role", Gen.OneOf("admin", "viewer")).Select(f => (WireField?)f),
    ];

    private static readonly Gen<WireField[]> OperatorPoison = Gen.Frequency(
        (2, One(Gen.OneOf("", " ", "\t").Select(u => Str("user", u)), LongText(63, 200).Select(t => Str("user", t)), NotAString("user"),
            Gen.OneOf(TestCatalog.AdminUser, TestCatalog.ViewerUser).Select(u => Str("user", u)), Gen.Const(Raw("user", "null")))),
        (2, One(Hostile.OddChar.Array[0, 7].Select(c => Str("password", new string(c))), LongText(127, 300).Select(t => Str("password", t)), NotAString("password"),
            Gen.Const(Raw("password", "null")))),
        (2, One(Gen.OneOf("Admin", "VIEWER", "root", "", " admin", "admin ", "operator", "admin\u0000").Select(r => Str("role", r)), NotAString("role"),
            Gen.Const(Raw("role", "null")))));

    private static readonly byte[] OperatorSeed = Encoding.UTF8.GetBytes($$"""{"user":"{{new string('u', 1000)}}","password":"x","role":"root"}""");

    [Fact]
    public Task OperatorCreationRefusesHostileInput() => FuzzAsync("POST /operators",
        Calls("POST", "new", Gen.Const("/operators"), Bodies(WithPoison(NewOperator, OperatorPoison), OperatorSeed)),
        Refused, (HttpMethod.Post, $"{Api}/operators", """{"user":"fz-after","password":"a-good-password","role":"viewer"}"""));
}
