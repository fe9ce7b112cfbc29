using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.EntityFrameworkCore;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Security;

/// <summary>useMncard with one problem planted in the envelope, the cipher, the param or the card's state.</summary>
public abstract partial class PlantedProblemTests
{
    // The cards are sold on Monday 2026-01-05 (30 days, 8 uses, 2 per 7-day cycle), so these eight
    // days hold every use a card has, two per cycle.
    private static readonly string[] UseDays = ["01-05", "01-06", "01-12", "01-13", "01-19", "01-20", "01-26", "01-27"];

    private sealed record Cards(string CycleFull, string TotalFull, string Refunded, string Replayed, JsonNode ReplayAnswer, string[] Pool);

    private async Task<Cards> SellCardsAsync()
    {
        var open = new OpenApiClient(App.CreateClient());
        async Task<string> SellAsync(string saleNo, int num = 1)
        {
            var sold = await open.SellAsync(saleNo, num: num, memberId: "M0036");
            Assert.Equal(0, sold.Code);
            return sold.Data!["id"]!.GetValue<string>();
        }
        async Task<JsonNode> UseAsync(string card, string useNo, string day)
        {
            var used = await open.UseAsync(card, useNo, $"2026-{day} 12:00:00");
            Assert.Equal(0, used.Code);
            return used.Data!;
        }
        var cycleFull = await SellAsync("PP-A");
        await UseAsync(cycleFull, "PP-A1", "01-05");
        await UseAsync(cycleFull, "PP-A2", "01-06");
        var totalFull = await SellAsync("PP-B");
        foreach (var (day, i) in UseDays.Select((d, i) => (d, i)))
            await UseAsync(totalFull, $"PP-B{i}", day);
        var refunded = await SellAsync("PP-R");
        Assert.Equal(0, (await open.CallAsync("refundMncardForSale", new { saleNo = "PP-R" })).Code);
        // One use of two in its cycle: a replay of it would still succeed as a new use, so it is
        // clear of the known PostgreSQL bug with replays that would now fail.
        var replayed = await SellAsync("PP-D");
        var replayAnswer = await UseAsync(replayed, "PP-D1", "01-05");
        var pool = await open.SellAsync("PP-POOL", num: 100, memberId: "M0036");
        Assert.Equal(0, pool.Code);
        return new Cards(cycleFull, totalFull, refunded, replayed, replayAnswer,
            [.. pool.Data!["cards"]!.AsArray().Select(c => c!["id"]!.GetValue<string>())]);
    }

    private static HostileRequest Sealed(string plaintext, string channel = "hkl-test", string key = TestCatalog.DesKey, long skewMs = 0,
        Func<string, string>? spoil = null, string note = "", string method = "useMncard")
    {
        var timestamp = (TestWorld.Clock.GetUtcNow().ToUnixTimeMilliseconds() + skewMs).ToString(CultureInfo.InvariantCulture);
        var param = OpenApiCipher.Encrypt(OpenApiCipher.Des, key, plaintext, channel, timestamp);
        var body = JsonSerializer.SerializeToUtf8Bytes(new { channel, timestamp, param = spoil is null ? param : spoil(param) });
        return new HostileRequest($"/openapi/v1/{method}", "application/json", body, [], $"{note} plaintext {plaintext}");
    }

    private static string Param(IEnumerable<(string Key, string Value)> fields) =>
        JsonSerializer.Serialize(fields.ToDictionary(f => f.Key, f => f.Value));

    private Gen<Planted> UseCases(Cards cards)
    {
        var useNo = () => Fresh("pu");
        (string, string)[] Use(string card, string day, string? without = null, (string, string)? with = null) =>
        [
            .. new[] { ("memberCardId", card), ("cardProductId", "P-NOODLE"), ("posid", "POS-P"), ("useNo", useNo()), ("useTime", $"2026-{day} 12:00:00") }
                .Where(f => f.Item1 != without && f.Item1 != with?.Item1),
            .. with is { } w ? new[] { w } : [],
        ];
        Gen<Planted> Case(string problem, int code, string? field, Func<HostileRequest> build) => Gen.Const(new Planted(problem, code, field, build));
        var anyCard = Gen.OneOf(cards.Pool);
        var anyDay = Gen.OneOf(UseDays);
        return Gen.Frequency(
            (2, Gen.Const(0).Select(_ => new Planted("valid use", 0, null, () =>
            {
                var slot = Interlocked.Increment(ref _poolSlot) - 1;
                return Sealed(Param(Use(cards.Pool[slot / UseDays.Length], UseDays[slot % UseDays.Length])));
            }))),
            (1, Case("valid replay", 0, null, () => Sealed(Param([("memberCardId", cards.Replayed), ("cardProductId", "P-NOODLE"), ("posid", "POS-1"),
                ("useNo", "PP-D1"), ("useTime", "2026-01-05 12:00:00")])))),
            (1, Gen.Select(anyCard, anyDay).SelectMany(t => Gen.OneOf(
                Case("unknown channel", 1001, null, () => Sealed(Param(Use(t.Item1, t.Item2)), channel: "no-such-channel")),
                Case("stale timestamp", 1002, null, () => Sealed(Param(Use(t.Item1, t.Item2)), skewMs: -400_000)),
                Case("future timestamp", 1002, null, () => Sealed(Param(Use(t.Item1, t.Item2)), skewMs: 400_000)),
                Case("wrong key", 1003, null, () => Sealed(Param(Use(t.Item1, t.Item2)), key: "wrongkey")),
                Case("bad hex", 1003, null, () => Sealed(Param(Use(t.Item1, t.Item2)), spoil: p => "ZZ" + p[2..])),
                Case("no-scope", 1005, null, () => Sealed(Param(Use(t.Item1, t.Item2)), channel: "cards-only"))))),
            (2, Gen.Select(anyCard, anyDay, Gen.OneOf("cardProductId", "posid", "useNo", "memberCardId")).Select(t =>
                new Planted($"missing {t.Item3}", 1004, t.Item3, () => Sealed(Param(Use(t.Item1, t.Item2, without: t.Item3)))))),
            (1, Gen.Select(anyCard, Gen.OneOf("yesterday", "2026-13-01 00:00:00", "2026-01-05T12:00:00", "2099-01-01 00:00:00", "2025-12-31 12:00:00")).Select(t =>
                new Planted("invalid useTime", 1004, "useTime", () => Sealed(Param(Use(t.Item1, "01-05", with: ("useTime", t.Item2))))))),
            (2, Gen.Char["0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"].Array[12, 12].Select(c => new Planted("unknown card", 2101, null,
                () => Sealed(Param(Use("Z" + new string(c), "01-05")))))),
            (1, Gen.Select(anyCard, Gen.OneOf("P-X", "P-NONE", "p-noodle")).Select(t => new Planted("unknown product", 2101, null,
                () => Sealed(Param(Use(t.Item1, "01-05", with: ("cardProductId", t.Item2))))))),
            (2, anyDay.Select(day => new Planted("refunded card", 2102, null, () => Sealed(Param(Use(cards.Refunded, day)))))),
            (1, Gen.Select(anyCard, Gen.OneOf("2026-01-04 23:59:59", "2026-01-04 18:00:00", "2026-02-04 00:00:00")).Select(t =>
                new Planted("outside validity", 2102, null, () => Sealed(Param(Use(t.Item1, "01-05", with: ("useTime", t.Item2))))))),
            (2, Gen.OneOf("01-05", "01-07", "01-11").Select(day => new Planted("cycle used up", 2103, null, () => Sealed(Param(Use(cards.CycleFull, day)))))),
            (2, Gen.OneOf("02-02", "02-03").Select(day => new Planted("total used up", 2104, null, () => Sealed(Param(Use(cards.TotalFull, day)))))));
    }

    private int _poolSlot;

    private static (int, string) ReadOpenApi(HttpResponseMessage response, byte[] body, Action<JsonNode> success)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(body)!;
        var code = json["code"]!.GetValue<int>();
        Assert.Equal(code == 0, json["data"] is not null);
        if (code == 0)
            success(json["data"]!);
        return (code, json["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task EachPlantedProblemInACardUseGetsItsOwnCode()
    {
        var cards = await SellCardsAsync();
        var usesBefore = await App.QueryAsync(db => db.CardUses.CountAsync());

        var codes = await RunAsync("useMncard", UseCases(cards), (response, body) => ReadOpenApi(response, body, data =>
        {
            if (data["memberCardId"]!.GetValue<string>() == cards.Replayed)
                Assert.Equal(cards.ReplayAnswer.ToJsonString(), data.ToJsonString()); // the first answer, not a second use
        }));

        var fresh = Volatile.Read(ref _poolSlot);
        Assert.Equal(usesBefore + fresh, await App.QueryAsync(db => db.CardUses.CountAsync()));
        Assert.True(codes[0] > fresh, "no replay was mixed in");
        Assert.Equal(1, await App.QueryAsync(db => db.CardUses.CountAsync(u => u.MemberCardId == cards.Replayed)));
    }
}
