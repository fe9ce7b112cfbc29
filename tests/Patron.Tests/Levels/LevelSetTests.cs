using System.Net;
using Microsoft.EntityFrameworkCore;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Levels;

public abstract class LevelSetTests(Backend backend) : PatronTest(backend)
{
    private Task<Envelope> SetLevelAsync(string json) => Partner.PostRawAsync(PointsWireClient.LevelSet, json, "application/json");

    private Task<byte> LevelAsync(long memberId) =>
        App.QueryAsync(db => db.Members.Where(m => m.Id == memberId).Select(m => m.LevelId).SingleAsync());

    [Fact]
    public async Task SettingDirectlyMovesEveryListedMemberAndLogsEachChange()
    {
        await SetLevelAsync("""{"OnlyUpTo":"0","LevelId":64,"MemberList":[1,2]}""");
        var down = await SetLevelAsync("""{"OnlyUpTo":"0","LevelId":1,"MemberList":[2]}""");

        Assert.Equal((0, "string"), (down.Errcode, down.Tag!.GetValueKind().ToString().ToLowerInvariant()));
        Assert.Equal((64, 1), (await LevelAsync(1), await LevelAsync(2)));
        var log = await App.QueryAsync(db => db.MemberLogs.Where(l => l.MemberId == 2).OrderBy(l => l.Id).ToListAsync());
        Assert.Equal([("1", "64"), ("64", "1")], log.Select(l => (l.FromValue, l.ToValue)));
        Assert.All(log, l => Assert.Equal("channel:hkl-test", l.Actor));
    }

    [Fact]
    public async Task OnlyUpToRaisesButNeverLowers()
    {
        await SetLevelAsync("""{"OnlyUpTo":"0","LevelId":64,"MemberList":[3]}""");
        var answer = await SetLevelAsync("""{"OnlyUpTo":"1","LevelId":1,"MemberList":[3,4]}""");
        await SetLevelAsync("""{"OnlyUpTo":"1","LevelId":64,"MemberList":[4]}""");

        Assert.Equal(0, answer.Errcode);
        Assert.Equal((64, 64), (await LevelAsync(3), await LevelAsync(4)));
    }

    [Fact]
    public async Task AnUnknownMemberChangesNoneOfTheList()
    {
        var answer = await SetLevelAsync("""{"OnlyUpTo":"0","LevelId":64,"MemberList":[5,999]}""");

        Assert.Equal((2001, true), (answer.Errcode, answer.Errmsg.Contains("999")));
        Assert.Equal(1, await LevelAsync(5));
        Assert.Equal(0, await App.QueryAsync(db => db.MemberLogs.CountAsync()));
    }

    [Theory]
    [InlineData("""{"OnlyUpTo":"0","LevelId":7,"MemberList":[6]}""", "LevelId")]
    [InlineData("""{"OnlyUpTo":"0","LevelId":256,"MemberList":[6]}""", "LevelId")]
    [InlineData("""{"OnlyUpTo":"0","LevelId":64,"MemberList":[]}""", "MemberList")]
    [InlineData("""{"OnlyUpTo":"0","LevelId":64,"MemberList":["x"]}""", "MemberList")]
    [InlineData("""{"OnlyUpTo":"0","LevelId":64}""", "MemberList")]
    public async Task AnUnknownLevelOrABadListIsInvalid(string json, string field)
    {
        var answer = await SetLevelAsync(json);

        Assert.Equal((HttpStatusCode.BadRequest, 1004), (answer.Status, answer.Errcode));
        Assert.StartsWith(field, answer.Errmsg);
        Assert.Equal(1, await LevelAsync(6));
    }

    [Fact]
    public async Task XmlAndFormBodiesWork()
    {
        var xml = """
            <MemberLevelSetParm xmlns="http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Parm.Member">
              <LevelId>64</LevelId>
              <MemberList xmlns:d2p1="http://schemas.microsoft.com/2003/10/Serialization/Arrays"><d2p1:long>7</d2p1:long><d2p1:long>8</d2p1:long></MemberList>
              <OnlyUpTo>1</OnlyUpTo>
            </MemberLevelSetParm>
            """;
        var fromXml = await Partner.PostRawAsync(PointsWireClient.LevelSet, xml, "application/xml");
        var fromForm = await Partner.PostRawAsync(PointsWireClient.LevelSet, "OnlyUpTo=0&LevelId=64&MemberList=9&MemberList=10", "application/x-www-form-urlencoded");

        Assert.Equal((0, 0), (fromXml.Errcode, fromForm.Errcode));
        var levels = new[] { await LevelAsync(7), await LevelAsync(8), await LevelAsync(9), await LevelAsync(10) };
        Assert.All(levels, l => Assert.Equal(64, l));
    }

    [Fact]
    public async Task AddingPointsAfterAManualRaiseKeepsTheHigherLevel()
    {
        await SetLevelAsync("""{"OnlyUpTo":"1","LevelId":64,"MemberList":[11]}""");
        var add = await Partner.AddPointsAsync(11, "P", 5);

        Assert.Equal((64L, 64L), (add.TagLong("MemberLevelIdBefore"), add.TagLong("MemberLevelIdAfter")));
    }
}

public sealed class LevelSetTestsOnSqlite() : LevelSetTests(Backend.Sqlite);

public sealed class LevelSetTestsOnPostgres() : LevelSetTests(Backend.Postgres);
