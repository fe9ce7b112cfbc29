using System.Data.Common;

namespace Patron.Cards;

/// <summary>How both dialects' card stores read a usage entry with the card and sale its answer needs.</summary>
public static class UseTargets
{
    /// <summary>The columns <see cref="ReadEntry"/> expects, of usage_entries e.</summary>
    public const string EntryColumns = """
        e.id, e.member_card_id, e.card_product_id, e.card_product_name, e.total_used_num, e.cycle_days, e.cycle_num,
        e.has_used_num, e.last_cycle, e.last_cycle_used, e.posid, e.lock_version, e.status, e.begin_time, e.end_time, e.create_time
        """;

    /// <summary>The columns <see cref="Read"/> expects, of usage_entries e, member_cards c and card_sales s.</summary>
    public const string Columns = $"""
        {EntryColumns},
        c.status, c.member_code, c.card_info_id, c.sale_id, s.sale_org_code, s.sale_user, s.channel_name, c.lock_version, c.time_zone, c.member_id
        """;

    public static UseTarget Read(DbDataReader r)
    {
        var entry = ReadEntry(r);
        var card = new MemberCard
        {
            Id = entry.MemberCardId, Status = r.GetInt32(16), MemberCode = r.GetString(17), CardInfoId = r.GetString(18),
            SaleId = r.GetInt64(19), LockVersion = r.GetInt32(23), TimeZone = r.GetString(24), MemberId = r.GetInt64(25),
        };
        var sale = new CardSale
        {
            Id = card.SaleId, SaleOrgCode = r.IsDBNull(20) ? null : r.GetString(20), SaleUser = r.IsDBNull(21) ? null : r.GetString(21),
            ChannelName = r.GetString(22), SaleNo = "", CardInfoId = card.CardInfoId, MemberCode = card.MemberCode, RequestHash = "", ResultJson = "",
        };
        return new UseTarget(card, entry, sale);
    }

    public static UsageEntry ReadEntry(DbDataReader r) => new()
    {
        Id = r.GetString(0), MemberCardId = r.GetString(1), CardProductId = r.GetString(2), CardProductName = r.GetString(3),
        TotalUsedNum = r.GetInt32(4), CycleDays = r.GetInt32(5), CycleNum = r.GetInt32(6), HasUsedNum = r.GetInt32(7),
        LastCycle = r.GetInt32(8), LastCycleUsed = r.GetInt32(9), Posid = r.IsDBNull(10) ? null : r.GetString(10),
        LockVersion = r.GetInt32(11), Status = r.GetInt32(12), BeginTime = r.GetInt64(13), EndTime = r.GetInt64(14),
        CreateTime = r.GetInt64(15),
    };
}
