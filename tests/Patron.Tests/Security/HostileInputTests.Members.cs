using CsCheck;
using Patron.Tests.Infrastructure;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>The open API's member methods under hostile envelopes and plaintexts.</summary>
public abstract partial class HostileInputTests
{
    private static readonly Gen<WireField?> SomePhone = Gen.Frequency(
        (2, Gen.Const((WireField?)null)), (2, Gen.Int[0, 9999].Select(n => (WireField?)Str("phone", $"1390000{n:D4}"))), (1, Gen.Const<WireField?>(Raw("phone", "null"))));

    /// <summary>
    /// registerMember with a poison that no call survives: a member's code under another name (the fuzzed
    /// catalog's members have none), a code no member may have, a name or phone too long or of the wrong
    /// type, or a hostile code sent with a name too long.
    /// </summary>
    private static Gen<WireField[]> RegisterFields() => Gen.Frequency(
        (4, Gen.Select(Gen.OneOf(Members.Select(CodeOf).ToArray()), Gen.OneOf("FZ-OTHER", "张三", "x"), SomePhone,
            (code, name, phone) => new[] { Str("memberId", code), Str("name", name), phone })),
        (2, Gen.Select(Gen.OneOf<WireField>(
                Str("memberId", "12345"), Str("memberId", "0"), Str("memberId", new string('C', 33)), Str("memberId", ""), Str("memberId", "   "),
                Raw("memberId", "null"), Raw("memberId", "123"), Raw("memberId", "[]"), Raw("memberId", "true"), Raw("memberId", "{}")),
            Gen.OneOf("FZ-NAME", "王五"), SomePhone, (code, name, phone) => new[] { code, Str("name", name), phone })),
        (2, Gen.Select(Gen.Int[0, 1_000_000].Select(n => Str("memberId", $"FZ-NEW-{n}")), Gen.OneOf<WireField>(
                Str("name", new string('n', 101)), Str("name", "a\u0000b"), Raw("name", "[]"), Raw("name", "{}"), Str("phone", new string('9', 33)),
                Str("phone", "1\u00002"), Raw("phone", "true")),
            (code, poison) => new[] { code, (WireField?)poison })),
        (1, Hostile.Odd("memberId").Select(code => new[] { code, (WireField?)Str("name", new string('n', 101)) })))
        .SelectMany(fields => Hostile.Shuffled([.. fields.Select(f => Gen.Const<WireField?>(f))]));

    [Fact]
    public Task RegisterMemberRefusesHostileEnvelopesAndPlaintexts() =>
        FuzzOpenApiAsync("registerMember", _ => _ => RegisterFields(), """{"memberId":"12345","name":"x"}""", 0.03);

    [Fact]
    public Task QueryMemberAnswersHostileEnvelopesAndPlaintextsInItsEnvelope() =>
        FuzzOpenApiAsync("queryMember", _ => _ => QueryFields(), """{"memberId":"NO-SUCH-MEMBER"}""", 0.04, readOnly: true);
}
