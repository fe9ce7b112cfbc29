using System.Data.Common;

namespace Patron.Cards;

/// <summary>How both dialects' cancel stores read a use.</summary>
public static class CardCancels
{
    public const string UseColumns = "id, channel_id, use_no, usage_entry_id, member_card_id, posid, cycle, cancelled_at, cancel_result_json";

    public static CardUse ReadUse(DbDataReader r) => new()
    {
        Id = r.GetInt64(0), ChannelId = r.GetInt32(1), UseNo = r.GetString(2), UsageEntryId = r.GetString(3), MemberCardId = r.GetString(4),
        Posid = r.GetString(5), Cycle = r.GetInt32(6), CancelledAt = r.IsDBNull(7) ? null : r.GetInt64(7),
        CancelResultJson = r.IsDBNull(8) ? null : r.GetString(8), RequestHash = "", ResultJson = "",
    };
}
