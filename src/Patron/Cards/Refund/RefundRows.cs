using System.Data.Common;

namespace Patron.Cards;

/// <summary>How both dialects' refund stores read a sale and its cards.</summary>
public static class RefundRows
{
    public const string SaleColumns = """
        id, channel_id, channel_name, sale_no, card_info_id, member_id, member_code, num, pay_amt, sale_time, sale_user, sale_org_code,
        create_time, status, refund_amt, refund_time, refund_result_json
        """;

    public const string CardColumns = "id, sale_id, card_info_id, member_id, member_code, status, begin_time, end_time, create_time, lock_version, time_zone";

    public static CardSale ReadSale(DbDataReader r) => new()
    {
        Id = r.GetInt64(0), ChannelId = r.GetInt32(1), ChannelName = r.GetString(2), SaleNo = r.GetString(3), CardInfoId = r.GetString(4),
        MemberId = r.GetInt64(5), MemberCode = r.GetString(6), Num = r.GetInt32(7), PayAmt = r.GetDecimal(8), SaleTime = r.GetInt64(9),
        SaleUser = r.IsDBNull(10) ? null : r.GetString(10), SaleOrgCode = r.IsDBNull(11) ? null : r.GetString(11), CreateTime = r.GetInt64(12),
        Status = r.GetInt32(13), RefundAmt = r.IsDBNull(14) ? null : r.GetDecimal(14), RefundTime = r.IsDBNull(15) ? null : r.GetInt64(15),
        RefundResultJson = r.IsDBNull(16) ? null : r.GetString(16), RequestHash = "", ResultJson = "",
    };

    public static MemberCard ReadCard(DbDataReader r) => new()
    {
        Id = r.GetString(0), SaleId = r.GetInt64(1), CardInfoId = r.GetString(2), MemberId = r.GetInt64(3), MemberCode = r.GetString(4),
        Status = r.GetInt32(5), BeginTime = r.GetInt64(6), EndTime = r.GetInt64(7), CreateTime = r.GetInt64(8), LockVersion = r.GetInt32(9),
        TimeZone = r.GetString(10),
    };

    /// <summary>Of cards: what a refund's answer and its rule need.</summary>
    public const string CardInfoColumns = "id, name, refund_policy";

    /// <summary>The batch's state from what was read: each sale with its cards, each card with its entries, each card's name and policy.</summary>
    public static CardRefundBatchState State(List<CardSale> sales, List<MemberCard> cards, List<UsageEntry> entries,
        Dictionary<string, (string Name, string Policy)> infos)
    {
        var byCard = entries.ToLookup(e => e.MemberCardId);
        foreach (var card in cards)
            card.Entries = [.. byCard[card.Id]];
        var bySale = cards.ToLookup(c => c.SaleId);
        return new CardRefundBatchState(sales.ToDictionary(s => (s.ChannelId, s.SaleNo),
            s => infos.TryGetValue(s.CardInfoId, out var info)
                ? new RefundTarget(s, [.. bySale[s.Id]], info.Name, info.Policy)
                : new RefundTarget(s, [.. bySale[s.Id]], s.CardInfoId)));
    }
}
