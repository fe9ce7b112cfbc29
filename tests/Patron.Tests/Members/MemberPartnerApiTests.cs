using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Members;

/// <summary>Partners register members by code and read their points through the open API.</summary>
public abstract class MemberPartnerApiTests(Backend backend) : PatronTest(backend)
{
    private OpenApiClient OpenApi => new(App.CreateClient());

    private Task<int> MemberCountAsync() => App.QueryAsync(db => db.Members.CountAsync());

    private Task<string> MembersAsync() => App.QueryAsync(async db => string.Join("\n",
        await db.Members.AsNoTracking().OrderBy(m => m.Id).Select(m => $"{m.Id}|{m.Code}|{m.Name}|{m.Phone}|{m.LevelId}|{m.Balance}").ToListAsync()));

    [Fact]
    public async Task RegisteringANewCodeCreatesTheMemberAndAnswersIt()
    {
        var answer = await OpenApi.RegisterMemberAsync("NEW-A1", "新会员", "13911112222");

        Assert.Equal(0, answer.Code);
        var data = answer.Data!.AsObject();
        Assert.Equal(
            ["id", "memberId", "name", "phone", "levelId", "balance", "pendingPoints", "lifetimePoints", "expiringPoints"],
            data.Select(p => p.Key).ToArray());
        Assert.Equal(TestCatalog.MemberCount + 1, data["id"]!.GetValue<long>());
        Assert.Equal(("NEW-A1", "新会员", "13911112222"), (Text(data, "memberId"), Text(data, "name"), Text(data, "phone")));
        Assert.Equal([1, 0, 0, 0, 0], new[] { "levelId", "balance", "pendingPoints", "lifetimePoints", "expiringPoints" }.Select(f => data[f]!.GetValue<long>()));
        var stored = await App.QueryAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Code == "NEW-A1"));
        Assert.Equal((TestCatalog.MemberCount + 1L, "新会员", "13911112222", (byte)1), (stored.Id, stored.Name, stored.Phone, stored.LevelId));
        var audit = await App.QueryAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "member.create"));
        Assert.Equal(("channel:hkl-test", stored.Id.ToString()), (audit.Actor, audit.EntityId));
    }

    [Fact]
    public async Task RegisteringAgainWithTheSameContentAnswersTheSameMemberAndMakesNoOther()
    {
        var first = await OpenApi.RegisterMemberAsync("NEW-B1", "王小二", "13922223333");
        var again = await OpenApi.RegisterMemberAsync(" NEW-B1 ", "王小二", "13922223333");

        Assert.Equal((0, 0), (first.Code, again.Code));
        Assert.Equal(first.Data!.ToJsonString(), again.Data!.ToJsonString());
        Assert.Equal(TestCatalog.MemberCount + 1, await MemberCountAsync());
        Assert.Equal(1, await App.QueryAsync(db => db.AuditLog.CountAsync(a => a.Action == "member.create")));
    }

    [Fact]
    public async Task TheSameCodeWithAnotherNameOrPhoneIs2003AndChangesNothing()
    {
        await OpenApi.RegisterMemberAsync("NEW-C1", "赵六", "13933334444");
        var before = await MembersAsync();

        var otherName = await OpenApi.RegisterMemberAsync("NEW-C1", "赵七", "13933334444");
        var otherPhone = await OpenApi.RegisterMemberAsync("NEW-C1", "赵六", "13900000000");
        var noPhone = await OpenApi.RegisterMemberAsync("NEW-C1", "赵六", null);
        var catalogMember = await OpenApi.RegisterMemberAsync("M0001", "别人", "13800000001");

        Assert.Equal([2003, 2003, 2003, 2003], new[] { otherName, otherPhone, noPhone, catalogMember }.Select(a => a.Code));
        Assert.All(new[] { otherName, otherPhone, noPhone, catalogMember }, a => Assert.Null(a.Data));
        Assert.Equal(before, await MembersAsync());
    }

    [Theory]
    [InlineData("""{"memberId":"12345","name":"x"}""")]
    [InlineData("""{"memberId":12345,"name":"x"}""")]
    [InlineData("""{"memberId":"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456","name":"x"}""")]
    [InlineData("""{"memberId":"   ","name":"x"}""")]
    [InlineData("""{"memberId":"","name":"x"}""")]
    [InlineData("""{"name":"x","phone":"13900000000"}""")]
    public async Task ABadCodeIs1004NamingMemberIdAndCreatesNothing(string param)
    {
        var before = await MembersAsync();

        var answer = await OpenApi.CallAsync("registerMember", param);

        Assert.Equal(1004, answer.Code);
        Assert.StartsWith("memberId", answer.Msg);
        Assert.Equal(before, await MembersAsync());
    }

    [Fact]
    public async Task ACatalogMembersCodeWithItsOwnNameAndPhoneAnswersThatMember()
    {
        var answer = await OpenApi.RegisterMemberAsync("M0007", "会员7", "13800000007");

        Assert.Equal(0, answer.Code);
        Assert.Equal((7L, "M0007"), (answer.Data!["id"]!.GetValue<long>(), Text(answer.Data, "memberId")));
        Assert.Equal(TestCatalog.MemberCount, await MemberCountAsync());
    }

    [Fact]
    public async Task EightConcurrentRegistersOfOneCodeMakeOneMemberAndAllAnswerIt()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => OpenApi.RegisterMemberAsync("NEW-D1", "并发", "13944445555")));

        Assert.All(answers, a => Assert.Equal(0, a.Code));
        Assert.Single(answers.Select(a => a.Data!["id"]!.GetValue<long>()).Distinct());
        Assert.Equal(1, await App.QueryAsync(db => db.Members.CountAsync(m => m.Code == "NEW-D1")));
        Assert.Equal(TestCatalog.MemberCount + 1, await MemberCountAsync());
    }

    [Fact]
    public async Task AQueryFindsAMemberByCodeOrIdWithItsPoints()
    {
        Assert.Equal(0, (await Partner.AddPointsAsync(5, "S", 1200, key: "q-1")).Errcode);
        Assert.Equal(0, (await Partner.AddPointsAsync(5, "E", -200, key: "q-2")).Errcode);

        var byCode = await OpenApi.QueryMemberAsync("M0005");
        var byId = await OpenApi.QueryMemberAsync("5");

        Assert.Equal((0, 0), (byCode.Code, byId.Code));
        Assert.Equal(byCode.Data!.ToJsonString(), byId.Data!.ToJsonString());
        var data = byCode.Data!;
        Assert.Equal(("M0005", "会员5", "13800000005"), (Text(data, "memberId"), Text(data, "name"), Text(data, "phone")));
        Assert.Equal([5, 64, 1000, 0, 1200, 0],
            new[] { "id", "levelId", "balance", "pendingPoints", "lifetimePoints", "expiringPoints" }.Select(f => data[f]!.GetValue<long>()));
    }

    [Fact]
    public async Task AnUnknownMemberIs2001()
    {
        var byCode = await OpenApi.QueryMemberAsync("NO-SUCH-MEMBER");
        var byId = await OpenApi.QueryMemberAsync("999999");

        Assert.Equal((2001, 2001), (byCode.Code, byId.Code));
        Assert.Null(byCode.Data);
    }

    [Fact]
    public async Task AChannelWithoutTheScopesIs1005AndAWrongKeyIs1003First()
    {
        var cardsOnly = new OpenApiClient(App.CreateClient()) { Channel = "aes-partner", Key = TestCatalog.AesKey, Cipher = OpenApiCipher.AesGcm };
        var wrongKey = new OpenApiClient(App.CreateClient()) { Channel = "aes-partner", Key = "not-the-key", Cipher = OpenApiCipher.AesGcm };
        var ownWrongKey = new OpenApiClient(App.CreateClient()) { Key = "wrongkey" };

        var register = await cardsOnly.RegisterMemberAsync("NEW-E1", "x", null);
        var query = await cardsOnly.QueryMemberAsync("M0001");
        var undecryptable = await wrongKey.RegisterMemberAsync("NEW-E1", "x", null);
        var undecryptableQuery = await ownWrongKey.QueryMemberAsync("M0001");

        Assert.Equal((1005, 1005), (register.Code, query.Code));
        Assert.Equal((1003, 1003), (undecryptable.Code, undecryptableQuery.Code));
        Assert.Equal(TestCatalog.MemberCount, await MemberCountAsync());
    }

    [Fact]
    public async Task ASaleToAnUnknownMemberStays2001AndRegistersNobody()
    {
        var sale = await OpenApi.SellAsync("S-UNKNOWN", memberId: "NEW-F1");

        Assert.Equal(2001, sale.Code);
        Assert.Equal(TestCatalog.MemberCount, await MemberCountAsync());
    }

    [Fact]
    public async Task TheNativeApiAndTheConsoleShowTheSamePoints()
    {
        await OpenApi.RegisterMemberAsync("NEW-G1", "控制台", "13955556666");
        Assert.Equal(0, (await Partner.AddPointsAsync(TestCatalog.MemberCount + 1, "S", 30, key: "g-1")).Errcode);
        var open = (await OpenApi.QueryMemberAsync("NEW-G1")).Data!;

        var native = (await OperatorClient().GetFromJsonAsync<JsonObject>($"/api/v1/members/{TestCatalog.MemberCount + 1}"))!;
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);
        var page = await session.Http.GetStringAsync($"/console/members/{TestCatalog.MemberCount + 1}?culture=en");

        Assert.Equal([open["balance"]!.GetValue<long>(), open["pendingPoints"]!.GetValue<long>(), open["expiringPoints"]!.GetValue<long>()],
            new[] { "balance", "pendingPoints", "expiringPoints" }.Select(f => native[f]!.GetValue<long>()));
        Assert.Equal(30, native["balance"]!.GetValue<long>());
        Assert.Contains("id=\"pending\">0<", page);
        Assert.Contains("id=\"expiring\">0<", page);
        Assert.Contains("Expiring in 30 days", page);
    }

    private static string Text(JsonNode node, string field) => node[field]!.GetValue<string>();
}

public sealed class MemberPartnerApiTestsOnSqlite() : MemberPartnerApiTests(Backend.Sqlite);

public sealed class MemberPartnerApiTestsOnPostgres() : MemberPartnerApiTests(Backend.Postgres);
