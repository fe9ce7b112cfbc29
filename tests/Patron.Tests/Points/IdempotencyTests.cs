using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points;

public abstract class IdempotencyTests(Backend backend) : PatronTest(backend)
{
    [Fact]
    public async Task ARetryWithTheSameKeyAndBodyGetsTheFirstAnswerAndWritesNothing()
    {
        var first = await Partner.AddPointsAsync(1, "P", 40, "T-7", key: "retry-1");
        await Partner.AddPointsAsync(1, "P", 5, "T-8"); // a change in between must not leak into the replay
        var again = await Partner.AddPointsAsync(1, "P", 40, "T-7", key: "retry-1");

        Assert.Equal(0, again.Errcode);
        Assert.Equal(first.Tag!.ToJsonString(), again.Tag!.ToJsonString());
        Assert.Equal(45, await BalanceAsync(1));
        Assert.Equal(2, await LedgerCountAsync());
    }

    [Fact]
    public async Task TheSameRequestInAnotherWireFormatIsStillAReplay()
    {
        var first = await Partner.AddPointsAsync(2, "P", 40, "T-7", key: "retry-2");
        var again = await Partner.PostRawAsync(PointsWireClient.PointAdd, "MemberId=2&BusiType=P&BusiBillNum=T-7&ChangeValue=40",
            "application/x-www-form-urlencoded", key: "retry-2");

        Assert.Equal(first.TagLong("AutoId"), again.TagLong("AutoId"));
        Assert.Equal(1, await LedgerCountAsync());
    }

    [Fact]
    public async Task TheSameKeyWithAnotherBodyIs1006AndChangesNothing()
    {
        await Partner.AddPointsAsync(3, "P", 40, "T-7", key: "reused");
        var other = await Partner.AddPointsAsync(3, "P", 41, "T-7", key: "reused");
        var otherMember = await Partner.AddPointsAsync(4, "P", 40, "T-7", key: "reused");

        Assert.Equal((1006, 1006), (other.Errcode, otherMember.Errcode));
        Assert.Equal((40L, 0L), (await BalanceAsync(3), await BalanceAsync(4)));
        Assert.Equal(1, await LedgerCountAsync());
    }

    [Fact]
    public async Task KeysBelongToTheirChannel()
    {
        await Partner.AddPointsAsync(5, "P", 10, key: "shared-key");
        var fromOther = await PartnerClient(App, TestCatalog.OtherApiKey).AddPointsAsync(5, "P", 10, key: "shared-key");

        Assert.Equal(0, fromOther.Errcode);
        Assert.Equal(20, await BalanceAsync(5));
    }

    [Fact]
    public async Task AFailedRequestIsNotRememberedSoItsRetryIsJudgedAfresh()
    {
        var refused = await Partner.AddPointsAsync(6, "E", -10, key: "after-topup");
        await Partner.AddPointsAsync(6, "C", 10);
        var retried = await Partner.AddPointsAsync(6, "E", -10, key: "after-topup");

        Assert.Equal((2201, 0), (refused.Errcode, retried.Errcode));
        Assert.Equal(0, await BalanceAsync(6));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("ключ")]
    public async Task AMalformedKeyIsInvalid(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PointsWireClient.PointAdd)
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { MemberId = 7, BusiType = "P", BusiBillNum = "x", ChangeValue = 1 }),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        var answer = await Envelope.ReadAsync(await Partner.SendAsync(request));

        Assert.Equal(1004, answer.Errcode);
        Assert.Equal(0, await LedgerCountAsync());
    }

    [Fact]
    public async Task ConcurrentRequestsWithOneKeyWriteOneRowAndAllGetItsAnswer()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Partner.AddPointsAsync(8, "P", 25, "race", key: "race-key")));

        Assert.All(answers, a => Assert.Equal(0, a.Errcode));
        Assert.Single(answers.Select(a => a.TagLong("AutoId")).Distinct());
        Assert.Equal(25, await BalanceAsync(8));
        Assert.Equal(1, await App.QueryAsync(db => db.PointEntries.CountAsync(p => p.IdempotencyKey == "race-key")));
    }

    [Fact]
    public async Task ConcurrentRequestsWithOneKeyForDifferentMembersWriteOneRow()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Partner.AddPointsAsync(10 + i, "P", 25, "race", key: "cross-member")));

        Assert.Single(answers, a => a.Errcode == 0);
        Assert.All(answers.Where(a => a.Errcode != 0), a => Assert.Equal(1006, a.Errcode));
        Assert.Equal(1, await LedgerCountAsync());
    }
}

public sealed class IdempotencyTestsOnSqlite() : IdempotencyTests(Backend.Sqlite);

public sealed class IdempotencyTestsOnPostgres() : IdempotencyTests(Backend.Postgres);
