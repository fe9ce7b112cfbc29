using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Events;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

/// <summary>
/// What a change leaves in the outbox: its events, in the change's own transaction, and none for a
/// request that failed or a retry that was answered from its kept row.
/// </summary>
public abstract class OutboxWriteTests(Backend backend) : PatronTest(backend)
{
    // The events are looked at as the change left them, with no dispatcher beside it.
    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) =>
        builder.UseSetting("Webhooks:Enabled", "false");

    private Task<List<OutboxEvent>> EventsAsync(string? type = null) =>
        App.QueryAsync(db => db.OutboxEvents.Where(e => type == null || e.Type == type).OrderBy(e => e.Id).ToListAsync());

    private static JsonNode Data(OutboxEvent e) => JsonNode.Parse(e.Data!)!;

    /// <summary>The events' data as they are sent: stored, or rendered from their rows.</summary>
    private async Task<List<JsonNode>> SentDataAsync(List<OutboxEvent> events)
    {
        var data = await App.QueryAsync(db => EventData.LoadAsync(db, events, default));
        return [.. events.Select(e => JsonNode.Parse(data[e.Id]!)!)];
    }

    [Fact]
    public async Task APointsAddWritesOnePointsChangedMadeOfItsLedgerRow()
    {
        var added = await Partner.AddPointsAsync(1, "P", 40, "T-1", key: "k-1");
        await Partner.AddPointsAsync(1, "P", 40, "T-1", key: "k-1"); // a retry answered from its row
        await Partner.AddPointsAsync(1, "E", -1_000, "T-2"); // refused: not enough points

        var events = await EventsAsync();
        var e = Assert.Single(events);
        var channelId = await App.QueryAsync(db => db.Channels.Where(c => c.Name == "hkl-test").Select(c => c.Id).SingleAsync());
        Assert.Equal((EventTypes.PointsChanged, 1L, channelId, added.TagLong("AutoId"), (string?)null),
            (e.Type, e.MemberId, e.ChannelId, e.LedgerId, e.Data));
    }

    [Fact]
    public async Task ARowThatMovesTheLevelAlsoWritesALevelChangedRightAfterIt()
    {
        await Partner.AddPointsAsync(2, "P", 999, "T-1");
        var crossing = await Partner.AddPointsAsync(2, "P", 5, "T-2");

        var events = await EventsAsync();
        Assert.Equal([EventTypes.PointsChanged, EventTypes.PointsChanged, EventTypes.LevelChanged], events.Select(e => e.Type));
        Assert.Equal(crossing.TagLong("AutoId"), events[2].LedgerId);
        Assert.Equal(events[1].LedgerId, events[2].LedgerId);
    }

    [Fact]
    public async Task ALedgerRowsDataIsTheRowWithItsChannelsName()
    {
        var added = await Partner.AddPointsAsync(3, "P", 40, "T-9");
        var e = Assert.Single(await EventsAsync());
        var row = await App.QueryAsync(db => db.PointEntries.SingleAsync(p => p.AutoId == e.LedgerId));

        var data = JsonNode.Parse(OutboxEvents.LedgerData(e.Type, row, "hkl-test"))!;
        Assert.Equal((added.TagLong("AutoId"), 3L, "P", "T-9", 40L, 0L, 40L, "hkl-test"),
            (data["autoId"]!.GetValue<long>(), data["memberId"]!.GetValue<long>(), data["busiType"]!.GetValue<string>(),
                data["busiBillNum"]!.GetValue<string>(), data["changeValue"]!.GetValue<long>(), data["balanceBefore"]!.GetValue<long>(),
                data["balanceAfter"]!.GetValue<long>(), data["channel"]!.GetValue<string>()));
        Assert.Equal((1, 1), (data["levelBefore"]!.GetValue<int>(), data["levelAfter"]!.GetValue<int>()));
    }

    [Fact]
    public async Task CardsWriteSoldUsedCancelledAndRefundedWithTheirAnswers()
    {
        var open = new OpenApiClient(App.CreateClient());
        var card = (await open.SellAsync("S-1", saleTime: "2026-01-05 10:00:00")).Data!["id"]!.GetValue<string>();
        await open.SellAsync("S-1", saleTime: "2026-01-05 10:00:00"); // a retry: no second card.sold
        await open.UseAsync(card, "U-1", "2026-01-05 12:00:00");
        await open.UseAsync(card, "U-1", "2026-01-05 12:00:00");
        await open.CancelAsync("U-1");
        await open.SellAsync("S-2", saleTime: "2026-01-05 10:00:00");
        var refund = await open.CallAsync("refundMncardForSale", new { saleNo = "S-2" });
        Assert.Equal(0, refund.Code);

        var events = await EventsAsync();
        var data = await SentDataAsync(events);
        Assert.Equal([EventTypes.CardSold, EventTypes.CardUsed, EventTypes.CardUseCancelled, EventTypes.CardSold, EventTypes.CardRefunded],
            events.Select(e => e.Type));
        Assert.All(events, e => Assert.NotNull(e.ChannelId));
        Assert.Equal(["S-1", "U-1", "U-1", "S-2", "S-2"], data.Select(d => d["saleNo"]?.GetValue<string>() ?? d["useNo"]!.GetValue<string>()));
        Assert.Equal(card, data[0]["memberCardIds"]![0]!.GetValue<string>());
        Assert.Equal(1, data[1]["usage"]!["hasUsedNum"]!.GetValue<int>());
        Assert.Equal(0, data[2]["usage"]!["hasUsedNum"]!.GetValue<int>());
        Assert.Equal(refund.Data!["status"]!.ToJsonString(), data[4]["refund"]!["status"]!.ToJsonString());
        var member = await App.QueryAsync(db => db.MemberCards.Where(c => c.Id == card).Select(c => c.MemberId).SingleAsync());
        Assert.All(events, e => Assert.Equal(member, e.MemberId));
    }

    [Fact]
    public async Task AUseWritesOneCardUsedMadeOfItsRowWithItsAnswer()
    {
        var open = new OpenApiClient(App.CreateClient());
        var card = (await open.SellAsync("S-1", saleTime: "2026-01-05 10:00:00")).Data!["id"]!.GetValue<string>();
        var used = await open.UseAsync(card, "U-7", "2026-01-05 12:00:00", posid: "POS-9");
        await open.UseAsync(card, "U-7", "2026-01-05 12:00:00", posid: "POS-9"); // a retry answered from its row
        await open.UseAsync(card, "U-8", "2026-01-05 12:00:00", product: "P-NONE"); // refused

        var e = Assert.Single(await EventsAsync(EventTypes.CardUsed));
        var row = await App.QueryAsync(db => db.CardUses.SingleAsync(u => u.UseNo == "U-7"));
        var member = await App.QueryAsync(db => db.MemberCards.Where(c => c.Id == card).Select(c => c.MemberId).SingleAsync());
        Assert.Equal((row.Id, (string?)null, member, row.ChannelId, DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt)),
            (e.UseId, e.Data, e.MemberId, e.ChannelId, e.At));
        var data = Assert.Single(await SentDataAsync([e])).AsObject();
        Assert.Equal(["useNo", "memberId", "posid", "useTime", "cycle", "usage"], data.Select(p => p.Key));
        Assert.Equal(("U-7", member, "POS-9", row.UseTime, row.Cycle),
            (data["useNo"]!.GetValue<string>(), data["memberId"]!.GetValue<long>(), data["posid"]!.GetValue<string>(),
                data["useTime"]!.GetValue<long>(), data["cycle"]!.GetValue<int>()));
        Assert.True(JsonNode.DeepEquals(used.Data, data["usage"]), $"{used.Data} against {data["usage"]}");
    }

    [Fact]
    public async Task OperatorChangesAndNewMembersWriteTheirAuditLinesAsEvents()
    {
        var admin = OperatorClient();
        (await admin.PutAsJsonAsync("/api/v1/levels/64", new { name = "金卡", threshold = 2000 })).EnsureSuccessStatusCode();
        var created = await new OpenApiClient(App.CreateClient()).RegisterMemberAsync("M-NEW", "新会员", "13800000000");
        Assert.Equal(0, created.Code);

        var events = await EventsAsync();
        Assert.Equal([EventTypes.OperatorChanged, EventTypes.MemberCreated], events.Select(e => e.Type));
        Assert.Equal(("level.edit", "level", "64"),
            (Data(events[0])["action"]!.GetValue<string>(), Data(events[0])["entity"]!.GetValue<string>(), Data(events[0])["entityId"]!.GetValue<string>()));
        Assert.Equal(2000, Data(events[0])["after"]!["threshold"]!.GetValue<long>());
        Assert.NotNull(events[1].MemberId);
        Assert.Equal("M-NEW", Data(events[1])["member"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task LevelSetWritesALevelChangedPerMemberItMoved()
    {
        await Partner.PostRawAsync(PointsWireClient.LevelSet, """{"OnlyUpTo":"0","LevelId":64,"MemberList":[4,5]}""", "application/json");
        await Partner.PostRawAsync(PointsWireClient.LevelSet, """{"OnlyUpTo":"0","LevelId":64,"MemberList":[4]}""", "application/json");

        var events = await EventsAsync(EventTypes.LevelChanged);
        Assert.Equal([4L, 5L], events.Select(e => e.MemberId!.Value).Order());
        Assert.All(events, e => Assert.Equal((1, 64, "set"),
            (Data(e)["levelBefore"]!.GetValue<int>(), Data(e)["levelAfter"]!.GetValue<int>(), Data(e)["cause"]!.GetValue<string>())));
    }
}

public sealed class OutboxWriteTestsOnSqlite() : OutboxWriteTests(Backend.Sqlite);

public sealed class OutboxWriteTestsOnPostgres() : OutboxWriteTests(Backend.Postgres);
