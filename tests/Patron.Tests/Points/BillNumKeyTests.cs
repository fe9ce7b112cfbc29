using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Points;

/// <summary>
/// A channel with billNumIsKey: a Point/Add without an Idempotency-Key is keyed by (channel,
/// BusiType, BusiBillNum), with every guarantee the header gives. hkl-test and other have it on;
/// plain-pos keeps it off.
/// </summary>
public abstract class BillNumKeyTests(Backend backend) : PatronTest(backend)
{
    private const string PlainApiKey = "pk_plain_pos_321";

    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        var channels = catalog["channels"]!.AsArray();
        foreach (var name in new[] { "hkl-test", "other" })
            channels.Single(c => c!["name"]!.GetValue<string>() == name)!["billNumIsKey"] = true;
        channels.Add(new JsonObject
        {
            ["name"] = "plain-pos", ["apiKey"] = PlainApiKey, ["desKey"] = TestCatalog.DesKey, ["scopes"] = new JsonArray("points.add"),
        });
        return catalog;
    }

    [Fact]
    public async Task ARetryOfABillGetsTheFirstAnswerAndWritesNothing()
    {
        var first = await Partner.AddPointsAsync(1, "S", 40, "BILL-1");
        await Partner.AddPointsAsync(1, "S", 5, "BILL-2");
        var again = await Partner.AddPointsAsync(1, "S", 40, "BILL-1");

        Assert.Equal((0, 0), (first.Errcode, again.Errcode));
        Assert.Equal(first.Tag!.ToJsonString(), again.Tag!.ToJsonString());
        Assert.Equal(45, await BalanceAsync(1));
        Assert.Equal(2, await LedgerCountAsync());
        var keys = await App.QueryAsync(db => db.PointEntries.OrderBy(p => p.AutoId).Select(p => p.IdempotencyKey).ToListAsync());
        Assert.Equal(["bill S BILL-1", "bill S BILL-2"], keys);
    }

    [Fact]
    public async Task OtherContentUnderABillIs1006AndChangesNothing()
    {
        await Partner.AddPointsAsync(2, "S", 40, "BILL-1");

        var otherValue = await Partner.AddPointsAsync(2, "S", 41, "BILL-1");
        var otherMember = await Partner.AddPointsAsync(3, "S", 40, "BILL-1");

        Assert.Equal((1006, 1006), (otherValue.Errcode, otherMember.Errcode));
        Assert.Equal((40L, 0L), (await BalanceAsync(2), await BalanceAsync(3)));
        Assert.Equal(1, await LedgerCountAsync());
    }

    [Fact]
    public async Task AnotherBusiTypeWithTheSameBillNumberIsAnotherBill()
    {
        await Partner.AddPointsAsync(4, "S", 40, "BILL-1");
        var rental = await Partner.AddPointsAsync(4, "R", 40, "BILL-1");

        Assert.Equal(0, rental.Errcode);
        Assert.Equal(80, await BalanceAsync(4));
    }

    [Fact]
    public async Task AnExplicitIdempotencyKeyStillWins()
    {
        await Partner.AddPointsAsync(5, "S", 40, "BILL-1", key: "k-1");
        var second = await Partner.AddPointsAsync(5, "S", 40, "BILL-1", key: "k-2");
        var billOnly = await Partner.AddPointsAsync(5, "S", 40, "BILL-1");

        Assert.Equal((0, 0), (second.Errcode, billOnly.Errcode));
        Assert.Equal(120, await BalanceAsync(5));
    }

    [Fact]
    public async Task WithTheSettingOffTwoAddsOfOneBillBothCount()
    {
        var plain = PartnerClient(App, PlainApiKey);

        var first = await plain.AddPointsAsync(6, "S", 40, "BILL-1");
        var second = await plain.AddPointsAsync(6, "S", 40, "BILL-1");

        Assert.Equal((0, 0), (first.Errcode, second.Errcode));
        Assert.NotEqual(first.TagLong("AutoId"), second.TagLong("AutoId"));
        Assert.Equal(80, await BalanceAsync(6));
        Assert.Equal(2, await LedgerCountAsync());
    }

    [Fact]
    public async Task AnotherChannelsSameBillIsItsOwn()
    {
        await Partner.AddPointsAsync(7, "S", 40, "BILL-1");
        var fromOther = await PartnerClient(App, TestCatalog.OtherApiKey).AddPointsAsync(7, "S", 40, "BILL-1");

        Assert.Equal(0, fromOther.Errcode);
        Assert.Equal(80, await BalanceAsync(7));
        Assert.Equal(2, await LedgerCountAsync());
    }

    [Fact]
    public async Task EightConcurrentAddsOfOneBillWriteExactlyOneRow()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Partner.AddPointsAsync(8, "S", 40, "BILL-RACE"))));

        Assert.All(answers, a => Assert.Equal(0, a.Errcode));
        Assert.Single(answers.Select(a => a.TagLong("AutoId")).Distinct());
        Assert.Equal(40, await BalanceAsync(8));
        Assert.Equal(1, await LedgerCountAsync());
    }
}

public sealed class BillNumKeyTestsOnSqlite() : BillNumKeyTests(Backend.Sqlite);

public sealed class BillNumKeyTestsOnPostgres() : BillNumKeyTests(Backend.Postgres);
