using CsCheck;
using Patron.Tests.Infrastructure;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>
/// A member's card actions: refund, cancel a use, extend. The seed sold no card, so whatever a
/// form names is not the member's, and each post is refused with the page's error line.
/// </summary>
public abstract partial class ConsoleHostileInputTests
{
    private static readonly Gen<WireField>[] CardRefund =
        [Either("saleNo", Gen.OneOf("S-1", "FZ-SALE-1")), Either("channel", Gen.OneOf("hkl-test", "other")), Either("refundAmt", Gen.OneOf("", "1", "11.22", "-1", "abc", "1e3"))];

    private static readonly Gen<WireField>[] CardCancel = [Either("useNo", Gen.OneOf("U-1", "FZ-USE-1")), Either("channel", Gen.OneOf("hkl-test", "other"))];

    private static readonly Gen<WireField>[] CardExtend =
        [Either("cardId", Gen.OneOf(TestCatalog.Card, "L0000000000000")), Either("endDate", Gen.OneOf("2099-01-01", "2026-02-30", "", "yesterday", "9999-12-31"))];

    private static readonly Gen<WireField[]> CardActionPoison = One(
        LongText(64, 300).SelectMany(t => Gen.OneOf("saleNo", "useNo", "cardId", "channel").Select(k => Str(k, t))),
        Gen.OneOf("\u0000", "S-1\u0000", "a\u0000b").SelectMany(t => Gen.OneOf("saleNo", "useNo", "cardId", "channel", "refundAmt", "endDate").Select(k => Str(k, t))));

    [Fact]
    public Task CardActionFormsRefuseHostileInput() => FuzzAsync("POST /console/members/{id}?handler=Refund|CancelUse|Extend", s => Gen.Frequency(
            (5, Gen.OneOf(("Refund", CardRefund), ("CancelUse", CardCancel), ("Extend", CardExtend)).SelectMany(form =>
                Posts(s, "real", RealMember.Select(id => $"/console/members/{id}?handler={form.Item1}"), WithPoison(form.Item2, CardActionPoison),
                    Seed($"saleNo={new string('s', 1000)}&useNo={new string('u', 1000)}&cardId={new string('c', 1000)}")))),
            (3, Gen.OneOf(("Refund", CardRefund), ("CancelUse", CardCancel), ("Extend", CardExtend)).SelectMany(form =>
                Posts(s, "unknown", UnknownMember.Select(id => $"/console/members/{id}?handler={form.Item1}"),
                    Hostile.Shuffled([.. form.Item2.Select(g => g.Select(f => (WireField?)f))]), Seed("saleNo=S-1&useNo=U-1&cardId=L0"))))),
        Refused("id=\"error\""));
}
