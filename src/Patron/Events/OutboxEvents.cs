using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Patron.Cards;
using Patron.Console;
using Patron.Points;

namespace Patron.Events;

/// <summary>
/// The events a change writes, built once here for every store: each event's data is the answer
/// the change gave (kept as JSON already) and the fields that say which change it was. A ledger
/// row's and a use's events keep only the row's id; their data is rendered from it when sent.
/// </summary>
public static class OutboxEvents
{
    /// <summary>The audit line's event: a member's creation is <c>member.created</c>; every other line, an operator's change.</summary>
    public static OutboxEvent OfAudit(AuditEntry audit)
    {
        long? member = audit.Entity == "member" && long.TryParse(audit.EntityId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
        if (audit.Action == "member.create")
            return New(EventTypes.MemberCreated, member, null, audit.At, w =>
            {
                w.WriteString("actor", audit.Actor);
                Raw(w, "member", audit.After);
            });
        return New(EventTypes.OperatorChanged, member, null, audit.At, w =>
        {
            w.WriteString("action", audit.Action);
            w.WriteString("entity", audit.Entity);
            w.WriteString("entityId", audit.EntityId);
            w.WriteString("actor", audit.Actor);
            Raw(w, "before", audit.Before);
            Raw(w, "after", audit.After);
        });
    }

    /// <summary>A level set outside the ledger (the seed's Level/Set).</summary>
    public static OutboxEvent LevelSet(long memberId, byte before, byte after, int channelId, DateTimeOffset at) =>
        New(EventTypes.LevelChanged, memberId, channelId, at, w =>
        {
            w.WriteNumber("memberId", memberId);
            w.WriteNumber("levelBefore", before);
            w.WriteNumber("levelAfter", after);
            w.WriteString("cause", "set");
        });

    public static OutboxEvent Sold(IssuedSale issued)
    {
        var sale = issued.Sale;
        return New(EventTypes.CardSold, sale.MemberId, sale.ChannelId, Instant(sale.CreateTime), w =>
        {
            w.WriteString("saleNo", sale.SaleNo);
            w.WriteNumber("memberId", sale.MemberId);
            w.WriteString("cardInfoId", sale.CardInfoId);
            w.WriteNumber("num", sale.Num);
            w.WriteNumber("payAmt", sale.PayAmt);
            w.WriteNumber("saleTime", sale.SaleTime);
            w.WriteStartArray("memberCardIds");
            foreach (var card in issued.Cards)
                w.WriteStringValue(card.Id);
            w.WriteEndArray();
        });
    }

    /// <summary>A use's event, whose data is rendered from the use's row when sent (<see cref="UseData"/>); the store's insert gives it the row's id.</summary>
    public static OutboxEvent Used(CardUse use, long memberId) =>
        new() { Type = EventTypes.CardUsed, MemberId = memberId, ChannelId = use.ChannelId, At = Instant(use.CreatedAt) };

    /// <summary>A card.used event's data: the use and its answer, fields no later write changes (a cancel is its own event).</summary>
    public static string UseData(CardUse use, long? memberId) => Json(w =>
    {
        w.WriteString("useNo", use.UseNo);
        if (memberId is { } member)
            w.WriteNumber("memberId", member);
        else
            w.WriteNull("memberId");
        w.WriteString("posid", use.Posid);
        w.WriteNumber("useTime", use.UseTime);
        w.WriteNumber("cycle", use.Cycle);
        Raw(w, "usage", use.ResultJson);
    });

    public static OutboxEvent UseCancelled(CardUse use, long memberId, int channelId, long at) =>
        New(EventTypes.CardUseCancelled, memberId, channelId, Instant(at), w =>
        {
            w.WriteString("useNo", use.UseNo);
            w.WriteNumber("memberId", memberId);
            Raw(w, "usage", use.CancelResultJson);
        });

    public static OutboxEvent Refunded(CardSale sale, int channelId) =>
        New(EventTypes.CardRefunded, sale.MemberId, channelId, Instant(sale.RefundTime ?? sale.CreateTime), w =>
        {
            w.WriteString("saleNo", sale.SaleNo);
            w.WriteNumber("memberId", sale.MemberId);
            w.WriteNumber("payAmt", sale.PayAmt);
            if (sale.RefundAmt is { } amount)
                w.WriteNumber("refundAmt", amount);
            Raw(w, "refund", sale.RefundResultJson);
        });

    /// <summary>
    /// The data of an event made of a ledger row, rendered when it is sent: a points.changed is the
    /// row; a level.changed has the shape of <see cref="LevelSet"/>, caused by points or a review.
    /// </summary>
    public static string LedgerData(string type, PointEntry row, string? channel) => Json(w =>
    {
        if (type == EventTypes.LevelChanged)
        {
            w.WriteNumber("memberId", row.MemberId);
            w.WriteNumber("levelBefore", row.LevelBefore);
            w.WriteNumber("levelAfter", row.LevelAfter);
            w.WriteString("cause", row.BusiType == "L" ? "review" : "points");
            w.WriteNumber("autoId", row.AutoId);
        }
        else
        {
            w.WriteNumber("autoId", row.AutoId);
            w.WriteNumber("memberId", row.MemberId);
            w.WriteString("busiType", row.BusiType);
            w.WriteString("busiBillNum", row.BusiBillNum);
            w.WriteNumber("changeValue", row.ChangeValue);
            w.WriteNumber("balanceBefore", row.BalanceBefore);
            w.WriteNumber("balanceAfter", row.BalanceAfter);
            w.WriteNumber("levelBefore", row.LevelBefore);
            w.WriteNumber("levelAfter", row.LevelAfter);
            w.WriteString("channel", channel);
            w.WriteString("createdAt", row.CreatedAt.ToUniversalTime());
            w.WriteNumber("pendingValue", row.PendingValue);
            w.WriteNumber("shortfall", row.Shortfall);
        }
    });

    private static DateTimeOffset Instant(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

    private static void Raw(Utf8JsonWriter w, string name, string? json)
    {
        w.WritePropertyName(name);
        if (json is null)
            w.WriteNullValue();
        else
            w.WriteRawValue(json, skipInputValidation: true);
    }

    private static OutboxEvent New(string type, long? memberId, int? channelId, DateTimeOffset at, Action<Utf8JsonWriter> fields) =>
        new() { Type = type, MemberId = memberId, ChannelId = channelId, At = at, Data = Json(fields) };

    private static string Json(Action<Utf8JsonWriter> fields)
    {
        var buffer = new ArrayBufferWriter<byte>(320);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            fields(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
