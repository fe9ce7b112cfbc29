using CsCheck;
using Patron.Tests.Infrastructure;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>Staff card actions: a refund of the seed's sale for an amount it cannot have, and sales, uses and cards that do not exist.</summary>
public abstract partial class NativeApiHostileInputTests
{
    /// <summary>refundAmt values no refund of FZ-SALE-1 (11.22 paid) accepts; a number in a string is read as the number.</summary>
    private static readonly Gen<WireField[]> RefundPoison = Gen.OneOf("11.23", "12", "99999", "-1", "-0.01", "1.234", "0.001", "1e3", "1e400",
        "79228162514264337593543950336", "\"abc\"", "\"\"", "true", "[]", "{}", "[1]", "\"\\uFF11\"", "\"11.23\"", "\"-1\"", "NaN")
        .Select(v => new[] { Raw("refundAmt", v) });

    /// <summary>The staff actions' routes with a body that would succeed, for <see cref="EveryRouteRefusesHostileCredentials"/>.</summary>
    private static (string Method, string Path, string? Body)[] CardActionRoutes =>
    [
        ("GET", "/sales/FZ-SALE-1/refund", null), ("POST", "/sales/FZ-SALE-1/refund", "{}"), ("POST", "/uses/FZ-USE-1/cancel", null),
        ("POST", $"/member-cards/{TestCatalog.Card}/extend", """{"endDate":"2099-01-01"}"""),
    ];

    private static readonly Gen<string> UnknownSale = UnknownName(["FZ-SALE-1"]);

    [Fact]
    public Task StaffRefundRefusesHostileInput() => FuzzAsync("POST /sales/{saleNo}/refund", Gen.Frequency(
            (5, Calls("POST", "real", HostileUrl.Query(("channel", Gen.OneOf("hkl-test"))).Select(q => "/sales/FZ-SALE-1/refund" + q),
                RefundPoison.Select(f => ("fields", (byte[]?)Hostile.Json(f))))),
            (4, Calls("POST", "unknown", Gen.Select(UnknownSale, HostileUrl.Query(("channel", AnyChannel)), (s, q) => $"/sales/{s}/refund{q}"),
                Bodies(RefundPoison, """{"refundAmt":1}"""u8.ToArray())))),
        Refused);

    [Fact]
    public Task StaffCancelRefusesHostileUseNumbers() => FuzzAsync("POST /uses/{useNo}/cancel",
        Calls("POST", "unknown", Gen.Select(UnknownName(["FZ-USE-1"]), HostileUrl.Query(("channel", AnyChannel)), (u, q) => $"/uses/{u}/cancel{q}"),
            Gen.Frequency((3, Gen.Const<(string, byte[]?)>(("none", null))), (1, Hostile.JsonAttack.Select(b => ("attack", (byte[]?)b))))),
        Refused);

    [Fact]
    public Task StaffExtendRefusesHostileInput() => FuzzAsync("POST /member-cards/{id}/extend",
        Calls("POST", "unknown", UnknownName([TestCatalog.Card]).Select(c => $"/member-cards/{c}/extend"),
            Bodies(Gen.Frequency((3, AnyDate.Select(d => new[] { Str("endDate", d) })), (1, NotAnInteger("endDate").Select(f => new[] { f }))),
                """{"endDate":"2099-01-01"}"""u8.ToArray())),
        Refused);
}
