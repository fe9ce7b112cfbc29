using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Cards;
using Patron.Events;
using Patron.Points;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// What a subscriber must have seen once the dispatcher has nothing left to send, checked against
/// the database and the receiver's own record of every request it got: every event delivered at
/// least once and none given up on, every request signed with the subscription's secret, every
/// body what the database holds, and each member's events first seen in the order they were written.
/// </summary>
public static class WebhookInvariants
{
    /// <summary>No delivery pending: the dispatcher is done.</summary>
    public static Task<bool> SettledAsync(PatronApp app) =>
        app.QueryAsync(async db => !await db.Set<WebhookDelivery>().AnyAsync(d => d.State == WebhookDelivery.Pending));

    /// <summary>Checks every invariant; returns a line saying what was checked.</summary>
    public static async Task<string> VerifyAsync(PatronApp app, IReadOnlyList<WebhookReceipt> receipts, string secret)
    {
        var events = await app.QueryAsync(db => db.Set<OutboxEvent>().AsNoTracking().ToDictionaryAsync(e => e.Id));
        var deliveries = await app.QueryAsync(db => db.Set<WebhookDelivery>().AsNoTracking().ToListAsync());
        var ledger = await app.QueryAsync(db => db.PointEntries.AsNoTracking().ToDictionaryAsync(e => e.AutoId));
        var channels = await app.QueryAsync(db => db.Channels.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name));
        var members = (await app.QueryAsync(db => db.Members.Select(m => m.Id).ToListAsync())).ToHashSet();
        var uses = await app.QueryAsync(db => db.CardUses.AsNoTracking().ToDictionaryAsync(u => u.Id));
        var cardMembers = await app.QueryAsync(db => db.MemberCards.ToDictionaryAsync(c => c.Id, c => c.MemberId));

        // Each event is its member's: a member that exists, and the one its data names (the order per member depends on it).
        foreach (var e in events.Values)
        {
            Assert.True(e.MemberId is null || members.Contains(e.MemberId.Value), $"event {e.Id} ({e.Type}) names member {e.MemberId}, who does not exist");
            var named = e switch
            {
                { LedgerId: { } row } => ledger[row].MemberId,
                { UseId: { } use } => cardMembers[uses[use].MemberCardId],
                _ => JsonNode.Parse(e.Data!)?["memberId"]?.GetValue<long>(),
            };
            if (named is not null)
                Assert.True(e.MemberId == named, $"event {e.Id} ({e.Type}) is member {e.MemberId}'s, its data names member {named}");
        }

        // One subscriber of every type: one delivery per event, each delivered, none failed.
        Assert.NotEmpty(events);
        Assert.Equal(events.Keys.Order(), deliveries.Select(d => d.EventId).Order());
        var unsettled = deliveries.Where(d => d.State != WebhookDelivery.Delivered).ToList();
        Assert.True(unsettled.Count == 0, $"{unsettled.Count} deliveries not delivered, e.g. event {unsettled.FirstOrDefault()?.EventId} " +
                                          $"in state {unsettled.FirstOrDefault()?.State} after {unsettled.FirstOrDefault()?.Attempts} attempts");

        // Every request: an event's id, signed with the secret, stamped with the time it was sent, its body the database's.
        foreach (var receipt in receipts)
        {
            Assert.True(events.ContainsKey(receipt.EventId), $"a request with webhook-id '{receipt.Id}' names no event");
            Assert.True(receipt.SignatureVerifies(secret), $"{receipt.Id}: signature '{receipt.Signature}' does not verify");
            var sentAt = long.Parse(receipt.Timestamp, NumberStyles.None, CultureInfo.InvariantCulture);
            Assert.True(Math.Abs(sentAt - receipt.ReceivedAt / 1000) <= 5, $"{receipt.Id}: webhook-timestamp {sentAt}, received at {receipt.ReceivedAt} ms");
            CheckBody(receipt, events[receipt.EventId], ledger, uses, channels);
        }

        // At least once: each event answered 2xx at least once.
        var accepted = receipts.Where(r => r.Accepted).Select(r => r.EventId).ToHashSet();
        var missing = events.Keys.Where(id => !accepted.Contains(id)).Order().ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} events never accepted by the receiver, e.g. evt_{missing.FirstOrDefault()}");

        // Per member, in order: the first time each of a member's events arrived, they arrive by id.
        foreach (var member in receipts.Where(r => events[r.EventId].MemberId is not null).GroupBy(r => events[r.EventId].MemberId))
        {
            var firsts = member.Select(r => r.EventId).Distinct().ToList();
            for (var i = 1; i < firsts.Count; i++)
                Assert.True(firsts[i - 1] < firsts[i], $"member {member.Key}: evt_{firsts[i - 1]} first arrived before evt_{firsts[i]}");
        }

        var resent = receipts.GroupBy(r => r.EventId).Count(g => g.Count(r => r.Accepted) > 1);
        return $"{events.Count} events ({string.Join(", ", events.Values.GroupBy(e => e.Type).Select(g => $"{g.Count()} {g.Key}"))}) " +
               $"in {receipts.Count} requests ({receipts.Count(r => r.Answer == "500")} answered 500, {receipts.Count(r => r.Answer == "slow")} past the timeout, " +
               $"{resent} events accepted more than once); lost 0, out of order 0, bad signatures 0";
    }

    private static void CheckBody(WebhookReceipt receipt, OutboxEvent e, Dictionary<long, PointEntry> ledger, Dictionary<long, CardUse> uses,
        Dictionary<int, string> channels)
    {
        var body = JsonNode.Parse(receipt.Body)!.AsObject();
        Assert.Equal(e.Type, body["type"]!.GetValue<string>());
        var at = DateTimeOffset.Parse(body["timestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.True(Math.Abs((at - e.At).TotalMilliseconds) < 1, $"{receipt.Id}: timestamp {at:O}, the event's {e.At:O}");
        var data = body["data"];
        if (e.UseId is { } useId)
        {
            // Its use's row, field by field, and the answer the use gave.
            var use = uses[useId];
            var expected = new JsonObject
            {
                ["useNo"] = use.UseNo, ["memberId"] = e.MemberId, ["posid"] = use.Posid, ["useTime"] = use.UseTime, ["cycle"] = use.Cycle,
                ["usage"] = JsonNode.Parse(use.ResultJson),
            };
            Assert.True(JsonNode.DeepEquals(expected, data), $"{receipt.Id}: data {data?.ToJsonString()} is not its use's {expected.ToJsonString()}");
            return;
        }
        if (e.LedgerId is not { } ledgerId)
        {
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(e.Data!), data), $"{receipt.Id}: data {data?.ToJsonString()} is not the event's {e.Data}");
            return;
        }
        var row = ledger[ledgerId];
        if (e.Type == EventTypes.PointsChanged)
        {
            // Its ledger row, field by field.
            var expected = new JsonObject
            {
                ["autoId"] = row.AutoId, ["memberId"] = row.MemberId, ["busiType"] = row.BusiType, ["busiBillNum"] = row.BusiBillNum,
                ["changeValue"] = row.ChangeValue, ["balanceBefore"] = row.BalanceBefore, ["balanceAfter"] = row.BalanceAfter,
                ["levelBefore"] = row.LevelBefore, ["levelAfter"] = row.LevelAfter, ["channel"] = row.ChannelId is { } own ? channels[own] : null,
            };
            foreach (var (name, value) in expected)
                Assert.True(JsonNode.DeepEquals(value, data?[name]), $"{receipt.Id}: data.{name} is {data?[name]?.ToJsonString()}, the ledger row's {value?.ToJsonString()}");
        }
        var rendered = JsonNode.Parse(OutboxEvents.LedgerData(e.Type, row, e.ChannelId is { } channel ? channels[channel] : null));
        Assert.True(JsonNode.DeepEquals(rendered, data), $"{receipt.Id}: data {data?.ToJsonString()} is not its ledger row's {rendered?.ToJsonString()}");
    }
}
