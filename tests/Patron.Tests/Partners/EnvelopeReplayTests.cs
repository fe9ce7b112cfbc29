using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Partners;

/// <summary>
/// A captured envelope replayed, byte for byte and inside the timestamp window, against another
/// instance on the same database: each writing method's business key (saleNo, useNo) is the
/// duplicate check, stored in the database, so the replay gets the first call's result and has no
/// second effect, even after the write was cancelled or refunded (SPEC §4).
/// </summary>
public abstract class EnvelopeReplayTests(Backend backend) : PatronTest(backend)
{
    private static string SealNow(string plaintext)
    {
        var timestamp = TestWorld.Clock.GetUtcNow().ToUnixTimeMilliseconds().ToString();
        return JsonSerializer.Serialize(new
        {
            channel = "hkl-test", timestamp,
            param = OpenApiCipher.Encrypt(OpenApiCipher.Des, TestCatalog.DesKey, plaintext, "hkl-test", timestamp),
        });
    }

    [Fact]
    public async Task CapturedEnvelopesReplayedOnAnotherInstanceGetTheFirstResultAndChangeNothing()
    {
        var first = new OpenApiClient(App.CreateClient());
        var other = new OpenApiClient(StartApp().CreateClient());

        var sale = SealNow(JsonSerializer.Serialize(new
        {
            cardInfoId = TestCatalog.Card, saleTime = "2026-01-05 10:00:00", num = "1", payAmt = "11.22", saleNo = "R-1", memberId = "M0002",
        }));
        var sold = await first.SendRawAsync("sendMncardForSale", sale);
        Assert.Equal(0, sold.Code);
        var card = sold.Data!["id"]!.GetValue<string>();
        var use = SealNow(JsonSerializer.Serialize(new { memberCardId = card, cardProductId = "P-NOODLE", posid = "POS-1", useNo = "R-U1", useTime = "2026-01-05 12:00:00" }));
        var used = await first.SendRawAsync("useMncard", use);
        Assert.Equal(0, used.Code);
        var cancel = SealNow(JsonSerializer.Serialize(new { useNo = "R-U1" }));
        Assert.Equal(0, (await first.SendRawAsync("cancelUseMncard", cancel)).Code);
        var afterCancel = await CardStateAsync();

        // The use replayed after its cancel: the first answer, and the use stays cancelled.
        var replayedUse = await other.SendRawAsync("useMncard", use);
        Assert.Equal((0, used.Data!.ToJsonString()), (replayedUse.Code, replayedUse.Data!.ToJsonString()));
        Assert.Equal(0, (await other.SendRawAsync("cancelUseMncard", cancel)).Code);
        Assert.Equal(afterCancel, await CardStateAsync());

        var refund = SealNow(JsonSerializer.Serialize(new { saleNo = "R-1" }));
        var refunded = await first.SendRawAsync("refundMncardForSale", refund);
        Assert.Equal(0, refunded.Code);
        var afterRefund = await CardStateAsync();

        // Every captured envelope again, on the other instance: the same answers, not one row more.
        var replayedSale = await other.SendRawAsync("sendMncardForSale", sale);
        Assert.Equal((0, sold.Data!.ToJsonString()), (replayedSale.Code, replayedSale.Data!.ToJsonString()));
        var replayedRefund = await other.SendRawAsync("refundMncardForSale", refund);
        Assert.Equal((0, refunded.Data!.ToJsonString()), (replayedRefund.Code, replayedRefund.Data!.ToJsonString()));
        Assert.Equal(0, (await other.SendRawAsync("useMncard", use)).Code);
        Assert.Equal(afterRefund, await CardStateAsync());
        Assert.Equal(1, await App.QueryAsync(db => db.CardSales.CountAsync()));
    }
}

public sealed class EnvelopeReplayTestsOnSqlite() : EnvelopeReplayTests(Backend.Sqlite);

public sealed class EnvelopeReplayTestsOnPostgres() : EnvelopeReplayTests(Backend.Postgres);
