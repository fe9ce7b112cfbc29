using System.Net;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points;

public abstract class PointAddTests(Backend backend) : PatronTest(backend)
{
    [Fact]
    public async Task AddingPointsAnswersTheBalanceBeforeAndAfterAndWritesOneLedgerRow()
    {
        var first = await Partner.AddPointsAsync(1, "P", 120, "T-1001");
        var second = await Partner.AddPointsAsync(1, "S", 30, "T-1002");

        Assert.Equal((HttpStatusCode.OK, 0), (first.Status, first.Errcode));
        Assert.Equal((0L, 120L, 1L, 1L), (first.TagLong("ValuePointBefore"), first.TagLong("ValuePointAfter"), first.TagLong("MemberLevelIdBefore"), first.TagLong("MemberLevelIdAfter")));
        Assert.Equal((120L, 150L), (second.TagLong("ValuePointBefore"), second.TagLong("ValuePointAfter")));
        Assert.True(second.TagLong("AutoId") > first.TagLong("AutoId"));
        Assert.Equal(1, first.TagLong("MemberId"));

        var rows = await App.QueryAsync(db => db.PointEntries.OrderBy(p => p.AutoId).ToListAsync());
        Assert.Equal(2, rows.Count);
        Assert.Equal(("S", "T-1002", 30L, 120L, 150L, "hkl-test"), (rows[1].BusiType, rows[1].BusiBillNum, rows[1].ChangeValue, rows[1].BalanceBefore, rows[1].BalanceAfter, rows[1].Actor));
        Assert.Equal(150, await BalanceAsync(1));
    }

    [Fact]
    public async Task CrossingOneThousandLifetimePointsPromotesFromLevel1To64()
    {
        var below = await Partner.AddPointsAsync(2, "P", 999);
        var crossing = await Partner.AddPointsAsync(2, "C", 1);

        Assert.Equal(1, below.TagLong("MemberLevelIdAfter"));
        Assert.Equal((1L, 64L), (crossing.TagLong("MemberLevelIdBefore"), crossing.TagLong("MemberLevelIdAfter")));
    }

    [Fact]
    public async Task ExchangeAndClearingNeverDemote()
    {
        await Partner.AddPointsAsync(3, "P", 1500);
        var exchange = await Partner.AddPointsAsync(3, "E", -1400);
        var clearing = await Partner.AddPointsAsync(3, "Z", 0);

        Assert.Equal((64L, 64L, 100L), (exchange.TagLong("MemberLevelIdBefore"), exchange.TagLong("MemberLevelIdAfter"), exchange.TagLong("ValuePointAfter")));
        Assert.Equal((64L, 0L), (clearing.TagLong("MemberLevelIdAfter"), clearing.TagLong("ValuePointAfter")));
    }

    [Fact]
    public async Task LifetimeBasisCountsEveryPointEverEarned()
    {
        await Partner.AddPointsAsync(4, "P", 900);
        await Partner.AddPointsAsync(4, "E", -500);
        var after = await Partner.AddPointsAsync(4, "P", 200);

        Assert.Equal((600L, 64L), (after.TagLong("ValuePointAfter"), after.TagLong("MemberLevelIdAfter")));
    }

    [Fact]
    public async Task ClearingRecordsMinusTheOldBalance()
    {
        await Partner.AddPointsAsync(5, "P", 321);
        var clearing = await Partner.AddPointsAsync(5, "Z", -321);

        Assert.Equal((0, 321L, 0L), (clearing.Errcode, clearing.TagLong("ValuePointBefore"), clearing.TagLong("ValuePointAfter")));
        var row = await App.QueryAsync(db => db.PointEntries.SingleAsync(p => p.AutoId == clearing.TagLong("AutoId")));
        Assert.Equal(-321, row.ChangeValue);
    }

    [Fact]
    public async Task ClearingWithAnyOtherValueIsInvalidAndChangesNothing()
    {
        await Partner.AddPointsAsync(6, "P", 50);
        var wrong = await Partner.AddPointsAsync(6, "Z", -20);

        Assert.Equal((HttpStatusCode.BadRequest, 1004), (wrong.Status, wrong.Errcode));
        Assert.Contains("ChangeValue", wrong.Errmsg);
        Assert.Equal(50, await BalanceAsync(6));
        Assert.Equal(1, await LedgerCountAsync());
    }

    [Fact]
    public async Task ExchangingMorePointsThanTheBalanceChangesNothing()
    {
        await Partner.AddPointsAsync(7, "P", 10);
        var exchange = await Partner.AddPointsAsync(7, "E", -11);

        Assert.Equal((HttpStatusCode.OK, 2201), (exchange.Status, exchange.Errcode));
        Assert.Null(exchange.Tag);
        Assert.Equal(10, await BalanceAsync(7));
        Assert.Equal(1, await LedgerCountAsync());
    }

    [Theory]
    [InlineData("E", 5, "ChangeValue")]
    [InlineData("P", 0, "ChangeValue")]
    [InlineData("X", 5, "BusiType")]
    [InlineData("PP", 5, "BusiType")]
    [InlineData("", 5, "BusiType")]
    public async Task ARequestBreakingABusiTypeRuleIsInvalidAndChangesNothing(string busiType, long change, string field)
    {
        var answer = await Partner.AddPointsAsync(8, busiType, change);

        Assert.Equal((HttpStatusCode.BadRequest, 1004), (answer.Status, answer.Errcode));
        Assert.StartsWith(field, answer.Errmsg);
        Assert.Equal(0, await LedgerCountAsync());
    }

    [Fact]
    public async Task AnUnknownMemberIs2001()
    {
        var answer = await Partner.AddPointsAsync(9999, "P", 5);

        Assert.Equal((HttpStatusCode.OK, 2001), (answer.Status, answer.Errcode));
        Assert.Equal(0, await LedgerCountAsync());
    }

    [Fact]
    public async Task NoKeyOrAWrongKeyIs401AndAChannelWithoutTheScopeIs403()
    {
        var anonymous = App.CreateClient();
        var none = await anonymous.AddPointsAsync(1, "P", 5);
        var wrong = await PartnerClient(App, "pk_nope_000").AddPointsAsync(1, "P", 5);
        var unscoped = await PartnerClient(App, TestCatalog.NoPointsApiKey).AddPointsAsync(1, "P", 5);

        Assert.Equal((HttpStatusCode.Unauthorized, 1001), (none.Status, none.Errcode));
        Assert.Equal((HttpStatusCode.Unauthorized, 1001), (wrong.Status, wrong.Errcode));
        Assert.Equal((HttpStatusCode.Forbidden, 1005), (unscoped.Status, unscoped.Errcode));
        Assert.Equal(0, await LedgerCountAsync());
    }

    [Theory]
    [InlineData("""{"BusiType":"P","BusiBillNum":"x","ChangeValue":1}""", "MemberId")]
    [InlineData("""{"MemberId":"abc","BusiType":"P","BusiBillNum":"x","ChangeValue":1}""", "MemberId")]
    [InlineData("""{"MemberId":1,"BusiType":"P","BusiBillNum":"123456789012345678901","ChangeValue":1}""", "BusiBillNum")]
    [InlineData("""{"MemberId":1,"BusiType":"P","ChangeValue":1}""", "BusiBillNum")]
    [InlineData("""{"MemberId":1,"BusiType":"P","BusiBillNum":"x","ChangeValue":4.5}""", "ChangeValue")]
    [InlineData("""{"MemberId":1,"BusiType":"P","BusiBillNum":"x","ChangeValue":99999999999999999999}""", "ChangeValue")]
    [InlineData("""{"MemberId":1,"BusiType":"P","BusiBillNum":"x","ChangeValue":[1]}""", "ChangeValue")]
    [InlineData("""{"MemberId":1,"BusiType":{"a":1},"BusiBillNum":"x","ChangeValue":1}""", "BusiType")]
    [InlineData("""{"MemberId":1,"BusiType":"P","BusiBillNum":"x","ChangeValue":1""", "body")]
    [InlineData("""[1,2,3]""", "body")]
    [InlineData("", "body")]
    public async Task MalformedOrMistypedJsonIsInvalidAndChangesNothing(string body, string field)
    {
        var answer = await Partner.PostRawAsync(PointsWireClient.PointAdd, body, "application/json");

        Assert.Equal((HttpStatusCode.BadRequest, 1004), (answer.Status, answer.Errcode));
        Assert.StartsWith(field, answer.Errmsg);
        Assert.Equal(0, await LedgerCountAsync());
    }

    [Fact]
    public async Task NumbersSentAsTextAndPropertyNamesInAnyCaseAreAccepted()
    {
        var answer = await Partner.PostRawAsync(PointsWireClient.PointAdd,
            """{"memberId":"10","busiType":"P","busiBillNum":"x","changeValue":"25"}""", "text/json");

        Assert.Equal((0, 25L), (answer.Errcode, answer.TagLong("ValuePointAfter")));
    }

    [Fact]
    public async Task ABodyOver64KiBIsRefusedAndChangesNothing()
    {
        var padding = new string('x', 70 * 1024);
        var answer = await Partner.PostRawAsync(PointsWireClient.PointAdd,
            $$"""{"MemberId":1,"BusiType":"P","BusiBillNum":"x","ChangeValue":1,"Pad":"{{padding}}"}""", "application/json");

        Assert.Equal((HttpStatusCode.BadRequest, 1004), (answer.Status, answer.Errcode));
        Assert.Contains("64 KiB", answer.Errmsg);
        Assert.Equal(0, await LedgerCountAsync());
    }

    [Fact]
    public async Task ABodySentInPiecesWithoutALengthIsReadWhole()
    {
        var body = """{"MemberId":1,"BusiType":"P","BusiBillNum":"x","ChangeValue":7}""";
        var answer = await PostInPiecesAsync(body, pieceBytes: 5);

        Assert.Equal((HttpStatusCode.OK, 0, 7L), (answer.Status, answer.Errcode, answer.TagLong("ValuePointAfter")));
    }

    [Fact]
    public async Task ABodyOver64KiBWithoutALengthIsRefusedAndChangesNothing()
    {
        var body = $$"""{"MemberId":1,"BusiType":"P","BusiBillNum":"x","ChangeValue":1,"Pad":"{{new string('x', 70 * 1024)}}"}""";
        var answer = await PostInPiecesAsync(body, pieceBytes: 4096);

        Assert.Equal((HttpStatusCode.BadRequest, 1004), (answer.Status, answer.Errcode));
        Assert.Contains("64 KiB", answer.Errmsg);
        Assert.Equal(0, await LedgerCountAsync());
    }

    /// <summary>A JSON body written a few bytes at a time, with no Content-Length (chunked).</summary>
    private async Task<Envelope> PostInPiecesAsync(string body, int pieceBytes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PointsWireClient.PointAdd)
        {
            Content = new PiecesContent(System.Text.Encoding.UTF8.GetBytes(body), pieceBytes),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await Partner.SendAsync(request);
        return await Envelope.ReadAsync(response);
    }

    private sealed class PiecesContent(byte[] bytes, int pieceBytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            for (var at = 0; at < bytes.Length; at += pieceBytes)
            {
                await stream.WriteAsync(bytes.AsMemory(at, Math.Min(pieceBytes, bytes.Length - at)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task AnUnsupportedContentTypeIsInvalid()
    {
        var answer = await Partner.PostRawAsync(PointsWireClient.PointAdd, "MemberId=1", "text/plain");

        Assert.Equal((HttpStatusCode.BadRequest, 1004), (answer.Status, answer.Errcode));
        Assert.StartsWith("Content-Type", answer.Errmsg);
    }

    [Fact]
    public async Task TheHostRunsOnTheBackendUnderTest()
    {
        var provider = await App.QueryAsync(db => Task.FromResult(db.Database.ProviderName));

        Assert.Contains(Backend.Storage == "postgres" ? "Npgsql" : "Sqlite", provider);
    }

    [Fact]
    public async Task HealthAnswers200WhenTheDatabaseIsReady()
    {
        using var response = await App.CreateClient().GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

public sealed class PointAddTestsOnSqlite() : PointAddTests(Backend.Sqlite);

public sealed class PointAddTestsOnPostgres() : PointAddTests(Backend.Postgres);
