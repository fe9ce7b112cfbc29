using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsCheck;
using Patron.Compat;
using Patron.Tests.Infrastructure;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>The open API's methods under hostile envelopes and plaintexts.</summary>
public abstract partial class HostileInputTests
{
    private sealed record World(string SaleTime, string[] OwnCards, string OtherCard, string RefundedCard, string BeforeBegin, string AfterEnd);

    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    private static string Local(DateTimeOffset t) => TimeZoneInfo.ConvertTime(t, Shanghai).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>
    /// Sales and uses by both card channels, expired (30 days valid, sold 30½ days ago, within the
    /// channel's 31 days), so that a use "now" cannot succeed either.
    /// </summary>
    private async Task<World> SeedCardsAsync()
    {
        var saleDay = TestWorld.Clock.GetUtcNow().AddDays(-30.5);
        var saleTime = Local(saleDay);
        var useTime = Local(saleDay.AddHours(1));
        var des = new OpenApiClient(App.CreateClient());
        var aes = new OpenApiClient(App.CreateClient()) { Channel = "aes-partner", Key = TestCatalog.AesKey, Cipher = OpenApiCipher.AesGcm };
        string Code(OpenApiAnswer a)
        {
            Assert.Equal(0, a.Code);
            return a.Data!["id"]!.GetValue<string>();
        }
        var first = await des.SellAsync("FZ-SALE-1", saleTime, num: 2, memberId: CodeOf(Members[0]));
        var own = first.Data!["cards"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()).ToArray();
        Assert.Equal(0, (await des.UseAsync(own[0], "FZ-USE-1", useTime)).Code);
        var other = Code(await aes.SellAsync("FZ-SALE-2", saleTime, memberId: CodeOf(Members[1])));
        Assert.Equal(0, (await aes.UseAsync(other, "FZ-USE-2", useTime)).Code);
        var refunded = Code(await des.SellAsync("FZ-SALE-3", saleTime, memberId: CodeOf(Members[0])));
        Assert.Equal(0, (await des.CallAsync("refundMncardForSale", new { saleNo = "FZ-SALE-3" })).Code);
        Assert.Equal(0, (await Partner.AddPointsAsync(Rich, "P", 1000, "seed", key: "seed-1")).Errcode);
        var begin = first.Data["beginTime"]!.GetValue<long>();
        return new World(saleTime, own, other, refunded,
            Local(DateTimeOffset.FromUnixTimeMilliseconds(begin).AddDays(-1)), Local(DateTimeOffset.FromUnixTimeMilliseconds(begin).AddDays(31)));
    }

    private static Gen<WireField> Either(string key, Gen<string> valid) => Gen.Frequency((3, valid.Select(v => Str(key, v))), (1, Hostile.Odd(key)));

    private static readonly Gen<string> UnknownRef = Gen.Frequency(
        (2, Gen.Char["0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"].Array[13, 13].Select(c => "L" + new string(c)[1..])), (1, Hostile.OddString));

    /// <summary>sendMncardForSale with a poison: a missing or unknown member or card, an amount, number or time no sale accepts, a saleNo already used.</summary>
    private static Gen<WireField[]> SaleFields(World w, bool aes) => Gen.Select(
        Either("cardInfoId", Gen.Const(TestCatalog.Card)), Either("saleTime", Gen.Const(Local(TestWorld.Clock.GetUtcNow().AddDays(-1)))),
        Either("payAmt", Gen.OneOf("11.22", "0", "1")), Either("saleNo", Gen.Int[0, 1_000_000].Select(n => $"FZ-NEW-{n}")),
        Either("memberId", Gen.OneOf([.. Members.Select(CodeOf), .. Members.Select(id => id.ToString())])), Either("num", Gen.OneOf("1", "2")),
        Gen.Frequency(
            (3, UnknownRef.Where(r => !Members.Select(CodeOf).Contains(r)).Select(r => Str("memberId", r))),
            (2, Gen.OneOf("NO-SUCH-CARD", TestCatalog.OffSaleCard, "").Select(c => Str("cardInfoId", c))),
            (2, Gen.OneOf<WireField>(Str("payAmt", "-1"), Str("payAmt", "1.234"), Str("payAmt", "abc"), Raw("payAmt", "true"), Str("payAmt", "1e3"), Str("payAmt", ""), Raw("payAmt", "[]"))),
            (2, Gen.OneOf<WireField>(Raw("num", "0"), Raw("num", "101"), Str("num", "-1"), Str("num", "abc"), Raw("num", "1.5"), Raw("num", "1e9"))),
            (2, Gen.OneOf("2026-13-01 00:00:00", "yesterday", "2026-01-05T10:00:00", "0000-00-00 00:00:00", "2026-1-5 1:0:0", "").Select(t => Str("saleTime", t))),
            (1, Gen.Const(Str("saleNo", aes ? "FZ-SALE-2" : "FZ-SALE-1"))),
            (1, Gen.OneOf("cardInfoId", "saleTime", "payAmt", "saleNo", "memberId").Select(k => Raw(k, "null")))),
        (card, time, amount, saleNo, member, num, poison) => new[] { card, time, amount, saleNo, member, num }.Where(f => f.Key != poison.Key).Append(poison).ToArray())
        .SelectMany(fields => Hostile.Shuffled([.. fields.Select(f => Gen.Const<WireField?>(f)), Gen.Const<WireField?>(Str("saleUser", "1345"))]));

    /// <summary>useMncard with a poison: an unknown card or product, a time outside the card's life or in the future, a refunded card, a useNo used for another use.</summary>
    private static Gen<WireField[]> UseFields(World w, bool aes) => Gen.Select(
        Gen.OneOf([.. w.OwnCards, w.OtherCard]),
        Either("cardProductId", Gen.Const("P-NOODLE")), Either("posid", Gen.OneOf("POS-1", "FZ")), Either("useNo", Gen.Int[0, 1_000_000].Select(n => $"FZ-U-{n}")),
        Gen.Frequency((2, Gen.OneOf(w.BeforeBegin, w.AfterEnd, w.SaleTime).Select(t => (WireField?)Str("useTime", t))), (1, Gen.Const<WireField?>((WireField?)null)), (1, Hostile.Odd("useTime").Select(f => (WireField?)f))),
        Gen.Frequency(
            (3, UnknownRef.Where(r => !w.OwnCards.Contains(r) && r != w.OtherCard && r != w.RefundedCard).SelectMany(r => Gen.OneOf(Str("memberCardId", r), Str("cardCode", r))).Select(f => new[] { f })),
            (2, Either("cardProductId", Gen.OneOf("P-X", "p-noodle", "P-NOODLE ", "")).Where(f => f.Text != "P-NOODLE").Select(f => new[] { f })),
            (2, Gen.OneOf(w.BeforeBegin, w.AfterEnd, Local(TestWorld.Clock.GetUtcNow().AddDays(1)), Local(TestWorld.Clock.GetUtcNow().AddMinutes(6))).Select(t => new[] { Str("useTime", t) })),
            (1, Gen.Const(new[] { Raw("useTime", "null") })), // now: long past the card's end
            (1, Gen.Const(new[] { Str("memberCardId", w.RefundedCard) })),
            (1, Gen.Const(new[] { Str("useNo", aes ? "FZ-USE-2" : "FZ-USE-1"), Str("posid", "FZ-OTHER-POS") }))), // its own useNo, for another use
        (card, product, posid, useNo, time, poison) =>
        {
            var fields = new List<WireField> { Str("memberCardId", card), product, posid, useNo };
            if (time is not null)
                fields.Add(time);
            fields.RemoveAll(f => poison.Any(p => p.Key == f.Key || (p.Key == "cardCode" && f.Key == "memberCardId")));
            return fields.Concat(poison.Where(p => p.Json != "null")).ToArray();
        }).SelectMany(fields => Hostile.Shuffled([.. fields.Select(f => Gen.Const<WireField?>(f))]));

    /// <summary>cancelUseMncard: an unknown useNo, or one that another channel used.</summary>
    private static Gen<WireField[]> CancelFields(bool aes) => Gen.Frequency(
        (3, UnknownRef.Select(r => Str("useNo", r))), (2, Gen.Const(Str("useNo", aes ? "FZ-USE-1" : "FZ-USE-2"))), (1, Hostile.Odd("useNo")))
        .Where(f => f.Text != (aes ? "FZ-USE-2" : "FZ-USE-1"))
        .SelectMany(f => Hostile.Shuffled(Gen.Const<WireField?>(f)));

    /// <summary>refundMncardForSale: an unknown saleNo, another channel's, or its own with an amount it cannot refund.</summary>
    private static Gen<WireField[]> RefundFields(bool aes) => Gen.Frequency(
        (3, Gen.Select(UnknownRef.Select(r => Str("saleNo", r)), Maybe(Hostile.Odd("refundAmt")), (s, a) => new[] { s, a })),
        (2, Gen.Select(Gen.Const(Str("saleNo", aes ? "FZ-SALE-1" : "FZ-SALE-2")), Maybe(Hostile.Odd("refundAmt")), (s, a) => new[] { s, a })),
        (2, Gen.Select(Gen.OneOf(aes ? "FZ-SALE-2" : "FZ-SALE-1", "FZ-SALE-3"), Gen.OneOf<WireField>(
                Str("refundAmt", "11.23"), Raw("refundAmt", "12"), Str("refundAmt", "99999"), Str("refundAmt", "-1"), Str("refundAmt", "abc"),
                Str("refundAmt", "1.234"), Raw("refundAmt", "true"), Str("refundAmt", "1e3"), Str("refundAmt", "NaN"), Raw("refundAmt", "{}")),
            (s, a) => new[] { Str("saleNo", s), (WireField?)a })),
        (1, Gen.Const(new[] { (WireField?)Raw("saleNo", "null") })))
        .Where(fields => fields.All(f => f is null || f.Key != "saleNo" || f.Text != (aes ? "FZ-SALE-2" : "FZ-SALE-1") || fields.Any(a => a?.Key == "refundAmt")))
        .SelectMany(fields => Hostile.Shuffled([.. fields.Where(f => f?.Json != "null").Select(f => Gen.Const<WireField?>(f))]));

    private static Gen<WireField[]> QueryFields() =>
        Gen.Frequency((2, Gen.OneOf([.. Members.Select(CodeOf), .. Members.Select(id => id.ToString())]).Select(m => Str("memberId", m))), (3, Hostile.Odd("memberId")))
            .SelectMany(f => Hostile.Shuffled(Gen.Const<WireField?>(f)));

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes);

    private static byte[] Envelope(params (string Key, object? Value)[] fields) =>
        JsonSerializer.SerializeToUtf8Bytes(fields.Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value));

    private static HostileRequest Sealed(string method, bool aes, string prefix, string plaintext, string note, bool numericTimestamp = false)
    {
        var (channel, key, cipher) = aes ? ("aes-partner", TestCatalog.AesKey, OpenApiCipher.AesGcm) : ("hkl-test", ValidDesKey, OpenApiCipher.Des);
        var timestamp = TestWorld.Clock.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var param = OpenApiCipher.Encrypt(cipher, key, plaintext, channel, timestamp);
        var body = Envelope(("channel", channel), ("timestamp", numericTimestamp ? long.Parse(timestamp) : timestamp), ("param", param));
        return new HostileRequest($"{prefix}/openapi/v1/{method}", "application/json", body, [], $"{note} {channel} plaintext {plaintext[..Math.Min(plaintext.Length, 400)]}");
    }

    /// <summary>Bytes that are not UTF-8 (or not text), properly DES-encrypted.</summary>
    private static HostileRequest SealedBytes(string method, byte[] plain)
    {
        using var des = DES.Create();
        des.Key = Encoding.UTF8.GetBytes(ValidDesKey);
        var param = Hex(des.EncryptEcb(plain, PaddingMode.PKCS7));
        var body = Envelope(("channel", "hkl-test"), ("timestamp", TestWorld.Clock.GetUtcNow().ToUnixTimeMilliseconds().ToString()), ("param", param));
        return new HostileRequest($"/openapi/v1/{method}", "application/json", body, [], $"sealed bytes {Hex(plain[..Math.Min(plain.Length, 64)])}");
    }

    private static readonly Gen<string> HostileHex = Gen.Frequency(
        (2, Gen.Byte.Array[0, 64].Select(Hex)), (1, Gen.Byte.Array[1, 64].Select(b => Hex(b)[1..])), (1, Gen.Byte.Array[8, 64].Select(b => Hex(b).ToLowerInvariant())),
        (1, Gen.Int[1, 40_000].Select(n => new string('A', n * 2))), (2, Hostile.OddString), (1, Gen.OneOf("0x00", "00 00", "ZZ", "-1", "4CCAAB2D892C3016=")));

    /// <summary>Every layer of the open API: the envelope, the hex, the cipher, and validly sealed plaintexts with a poison.</summary>
    private static Gen<HostileRequest> OpenApiRequests(string method, Func<bool, Gen<WireField[]>> fields, string basePlaintext)
    {
        var sealedFields = Gen.Select(Gen.Bool, Gen.OneOf("", "/htest"), Gen.Bool, (aes, prefix, numeric) => (aes, prefix, numeric))
            .SelectMany(t => fields(t.aes).Select(f => Sealed(method, t.aes, t.prefix, Encoding.UTF8.GetString(Hostile.Json(f)), "sealed fields", t.numeric)));
        var sealedJunk = Gen.Select(Gen.Bool, Gen.Frequency((3, Hostile.OddJson), (1, Hostile.OddString)), (aes, text) => Sealed(method, aes, "", text, "sealed junk"));
        var sealedBytes = Gen.Frequency((3, Gen.Byte.Array[0, 64]), (1, Gen.Const(Encoding.UTF8.GetBytes("{\"memberId\":\"")
            .Concat(new byte[] { 0xC0, 0x80, 0xED, 0xA0, 0x80 }).Concat(Encoding.UTF8.GetBytes("\"}")).ToArray()))).Select(b => SealedBytes(method, b));
        var now = TestWorld.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var validParam = OpenApiCipher.EncryptDes(ValidDesKey, basePlaintext);
        var envelopeFields = Gen.Select(
            Gen.Frequency((3, Gen.OneOf<object?>("hkl-test", "aes-partner", "other", "cards-only")), (2, Hostile.OddString.Select(s => (object?)s)),
                (1, Gen.OneOf<object?>(null, 1, true, new[] { "hkl-test" }, "HKL-TEST", "hkl-test "))),
            Gen.Frequency((3, Gen.Int[-1000, 1000].Select(ms => (object?)(TestWorld.Clock.GetUtcNow().ToUnixTimeMilliseconds() + ms).ToString())),
                (1, Gen.OneOf<object?>((now - 301_000).ToString(), (now + 301_000).ToString(), "0", "-1", long.MaxValue.ToString(), "1e12", "1.7e12", null, 1.5, new { })),
                (1, Hostile.OddString.Select(s => (object?)s))),
            Gen.Frequency((3, Gen.Const<object?>(validParam)), (3, HostileHex.Select(h => (object?)h)), (1, Gen.OneOf<object?>(null, 0, new[] { validParam }))),
            Gen.Frequency((8, Gen.Const("json")), (1, Gen.OneOf("xml", "form", "bson", "none"))),
            (channel, timestamp, param, format) =>
            {
                var values = new (string Key, object? Value)[] { ("channel", channel), ("timestamp", timestamp), ("param", param) };
                var asFields = values.Where(v => v.Value is string).Select(v => Str(v.Key, (string)v.Value!)).ToArray();
                var (type, body) = format switch
                {
                    "xml" => ("application/xml", Hostile.Xml(asFields, "envelope")),
                    "form" => ("application/x-www-form-urlencoded", Hostile.Form(asFields)),
                    "bson" => ("application/bson", Hostile.Bson(asFields)),
                    "none" => ("text/plain", Envelope(values)),
                    _ => ("application/json", Envelope(values)),
                };
                return new HostileRequest($"/openapi/v1/{method}", type, body, [], $"envelope {format}");
            });
        var validEnvelope = Envelope(("channel", "hkl-test"), ("timestamp", now.ToString()), ("param", validParam));
        var mutated = Hostile.Mutated(validEnvelope).Select(b => new HostileRequest($"/openapi/v1/{method}", "application/json", b, [], "mutated envelope"));
        var raw = Hostile.JsonAttack.Select(b => new HostileRequest($"/openapi/v1/{method}", "application/json", b, [], "json attack"));
        return Gen.Frequency((5, sealedFields), (1, sealedJunk), (1, sealedBytes), (2, envelopeFields), (1, mutated), (1, raw));
    }

    private async Task FuzzOpenApiAsync(string method, Func<World, Func<bool, Gen<WireField[]>>> fields, string basePlaintext, double minBusinessShare,
        bool readOnly = false)
    {
        var world = await SeedCardsAsync();
        await FuzzAsync(method, OpenApiRequests(method, fields(world), basePlaintext), (_, response, body) =>
        {
            var code = CheckOpenApiEnvelope(response, body, readOnly);
            Assert.True(readOnly || code != 0, "a write succeeded");
            return code;
        }, minBusinessShare);
        var query = await new OpenApiClient(App.CreateClient()).CallAsync("queryMncardByMember", new { memberId = CodeOf(Members[0]) });
        Assert.Equal(0, query.Code); // still works
    }

    [Fact]
    public Task SaleRefusesHostileEnvelopesAndPlaintexts() => FuzzOpenApiAsync("sendMncardForSale", w => aes => SaleFields(w, aes),
        $$"""{"cardInfoId":"NO-SUCH-CARD","saleTime":"2026-01-05 10:00:00","payAmt":"1.00","saleNo":"FZ-BASE","memberId":"NO-SUCH-MEMBER"}""", 0.03);

    /// <summary>About 10 % of the cases reach a rule; the bar sits at half that, as the other methods' do, so that chance does not fail it (35 of 500 did once).</summary>
    [Fact]
    public Task UseRefusesHostileEnvelopesAndPlaintexts() => FuzzOpenApiAsync("useMncard", w => aes => UseFields(w, aes),
        """{"memberCardId":"NOCARD0000000","cardProductId":"P-NOODLE","posid":"p","useNo":"FZ-BASE"}""", 0.05);

    [Fact]
    public Task CancelRefusesHostileEnvelopesAndPlaintexts() => FuzzOpenApiAsync("cancelUseMncard", _ => CancelFields, """{"useNo":"NO-SUCH-USE-000"}""", 0.1);

    [Fact]
    public Task RefundRefusesHostileEnvelopesAndPlaintexts() => FuzzOpenApiAsync("refundMncardForSale", _ => RefundFields, """{"saleNo":"NO-SUCH-SALE-00"}""", 0.02);

    [Fact]
    public Task QueryAnswersHostileEnvelopesAndPlaintextsInItsEnvelope() =>
        FuzzOpenApiAsync("queryMncardByMember", _ => _ => QueryFields(), """{"memberId":"NO-SUCH-MEMBER"}""", 0.08, readOnly: true);
}
