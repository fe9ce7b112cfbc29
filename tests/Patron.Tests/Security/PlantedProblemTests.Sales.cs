using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Security;

/// <summary>sendMncardForSale with one problem planted in the envelope, the param, or what it names.</summary>
public abstract partial class PlantedProblemTests
{
    private const string SeededSale = """{"cardInfoId":"L68F353AD0019","saleTime":"2026-01-05 10:00:00","payAmt":"11.22","saleNo":"PP-SALE-1","memberId":"M0037","num":"1"}""";

    private static Dictionary<string, string> SaleParam(string saleNo) => new()
    {
        ["cardInfoId"] = TestCatalog.Card, ["saleTime"] = "2026-01-05 10:00:00", ["payAmt"] = "11.22", ["saleNo"] = saleNo, ["memberId"] = "M0037", ["num"] = "1",
    };

    private Gen<Planted> SaleCases()
    {
        Planted Sale(string problem, int code, string? field, Action<Dictionary<string, string>> plant, string channel = "hkl-test") =>
            new(problem, code, field, () =>
            {
                var param = SaleParam(Fresh("ps"));
                plant(param);
                return Sealed(System.Text.Json.JsonSerializer.Serialize(param), channel: channel, method: "sendMncardForSale");
            });
        return Gen.Frequency(
            (3, Gen.OneOf("1", "2").Select(num => Sale("valid sale", 0, null, p => p["num"] = num))),
            (1, Gen.Const(new Planted("valid replay", 0, null, () => Sealed(SeededSale, method: "sendMncardForSale")))),
            (1, Gen.OneOf(Sale("unknown channel", 1001, null, _ => { }, channel: "no-such-channel"), Sale("no-scope", 1005, null, _ => { }, channel: "other"))),
            (2, Gen.OneOf("cardInfoId", "saleTime", "payAmt", "saleNo", "memberId").Select(missing => Sale($"missing {missing}", 1004, missing, p => p.Remove(missing)))),
            (2, Gen.OneOf(("payAmt", "-1"), ("payAmt", "abc"), ("payAmt", "1.234"), ("num", "0"), ("num", "101"), ("num", "1.5"), ("saleTime", "yesterday"),
                    ("saleTime", "2026-13-01 00:00:00"))
                .Select(bad => Sale($"invalid {bad.Item1}", 1004, bad.Item1, p => p[bad.Item1] = bad.Item2))),
            (3, Gen.Int[1, 99_999].Select(n => Sale("unknown member", 2001, null, p => p["memberId"] = $"NOBODY{n}"))),
            (2, Gen.OneOf("NO-SUCH-CARD", TestCatalog.OffSaleCard).Select(card => Sale("card not on sale", 2002, null, p => p["cardInfoId"] = card))),
            (3, Gen.OneOf(("payAmt", "1.00"), ("num", "2"), ("memberId", "M0038"), ("saleTime", "2026-01-06 10:00:00")).Select(changed =>
                Sale("saleNo reused", 2003, null, p => { p["saleNo"] = "PP-SALE-1"; p[changed.Item1] = changed.Item2; }))));
    }

    [Fact]
    public async Task EachPlantedProblemInACardSaleGetsItsOwnCode()
    {
        var seeded = await new OpenApiClient(App.CreateClient()).CallAsync("sendMncardForSale", SeededSale);
        Assert.Equal(0, seeded.Code);
        var cardsBefore = await App.QueryAsync(db => db.MemberCards.CountAsync());
        var issued = 0;

        await RunAsync("sendMncardForSale", SaleCases(), (response, body) => ReadOpenApi(response, body, data =>
        {
            if (data["saleNo"]!.GetValue<string>() == "PP-SALE-1")
                Assert.Equal(seeded.Data!.ToJsonString(), data.ToJsonString()); // the first answer, no second sale
            else
                Interlocked.Add(ref issued, data["cards"]!.AsArray().Count);
        }));

        Assert.Equal(cardsBefore + issued, await App.QueryAsync(db => db.MemberCards.CountAsync()));
    }
}
