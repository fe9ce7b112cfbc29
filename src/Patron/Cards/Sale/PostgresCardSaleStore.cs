using System.Data.Common;
using Patron.Data;
using Patron.Events;
using Patron.Members;
using Patron.Writes;
using static Patron.Writes.PostgresSql;

namespace Patron.Cards;

/// <summary>
/// Card sales on PostgreSQL. Nothing is locked: the unique (channel, saleNo) index decides a race
/// with another instance, and the queue then reads and decides the batch again.
/// </summary>
public sealed class PostgresCardSaleStore : IWriteStore<SaleCall, CardSaleBatchState, CardSaleBatchPlan>
{
    /// <summary>Sales already recorded under the batch's saleNos, each looked up on its own.</summary>
    internal const string EarlierSalesSql = """
        SELECT s.* FROM (SELECT unnest($1::integer[]) AS channel_id, unnest($2::text[]) AS sale_no) AS k
        CROSS JOIN LATERAL (SELECT channel_id, sale_no, request_hash, result_json, status FROM card_sales AS c
            WHERE c.channel_id = k.channel_id AND c.sale_no = k.sale_no LIMIT 1) AS s
        """;

    /// <summary>The members the batch names, by code or id.</summary>
    internal const string MembersSql = "SELECT id, code FROM members WHERE code = ANY($1) OR id = ANY($2)";

    internal const string CardsSql = $"""
        SELECT {CardSaleRows.CardColumns}
        FROM cards c LEFT JOIN card_products p ON p.card_id = c.id AND p.card_id = ANY($1)
        WHERE c.id = ANY($1)
        ORDER BY c.id, p.id
        """;

    /// <summary>The sales, and the member cards that take their new ids, matched by channel and saleNo.</summary>
    internal const string InsertSalesAndCardsSql = """
        WITH s AS (
            INSERT INTO card_sales (channel_id, channel_name, sale_no, card_info_id, member_id, member_code, num, pay_amt,
                sale_time, sale_user, sale_org_code, create_time, request_hash, result_json, status)
            SELECT unnest($1::integer[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::bigint[]),
                unnest($6::text[]), unnest($7::integer[]), unnest($8::numeric[]), unnest($9::bigint[]), unnest($10::text[]),
                unnest($11::text[]), unnest($12::bigint[]), unnest($13::text[]), unnest($14::text[]), 1
            RETURNING id, channel_id, sale_no)
        INSERT INTO member_cards (id, sale_id, card_info_id, member_id, member_code, status, begin_time, end_time, create_time, lock_version,
            time_zone)
        SELECT c.id, s.id, c.card_info_id, c.member_id, c.member_code, 1, c.begin_time, c.end_time, c.create_time, 0, c.time_zone
        FROM (SELECT unnest($15::text[]) AS id, unnest($16::integer[]) AS channel_id, unnest($17::text[]) AS sale_no,
                unnest($18::text[]) AS card_info_id, unnest($19::bigint[]) AS member_id, unnest($20::text[]) AS member_code,
                unnest($21::bigint[]) AS begin_time, unnest($22::bigint[]) AS end_time, unnest($23::bigint[]) AS create_time,
                unnest($24::text[]) AS time_zone) AS c
        JOIN s ON s.channel_id = c.channel_id AND s.sale_no = c.sale_no
        """;

    internal const string InsertEntriesSql = """
        INSERT INTO usage_entries (id, member_card_id, card_product_id, card_product_name, total_used_num, cycle_days, cycle_num,
            begin_time, end_time, create_time, has_used_num, last_cycle, last_cycle_used, posid, lock_version, status)
        SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::integer[]),
            unnest($6::integer[]), unnest($7::integer[]), unnest($8::bigint[]), unnest($9::bigint[]), unnest($10::bigint[]),
            0, 0, 0, NULL, 0, 1
        """;

    public async Task<CardSaleBatchState> ReadAsync(DbConnection connection, IReadOnlyList<SaleCall> batch, DateTimeOffset now, CancellationToken ct)
    {
        var references = batch.Select(c => c.Request.MemberId).Distinct().ToArray();
        await using var read = Batch(connection,
            Begin(),
            Command(EarlierSalesSql, [batch.Select(c => c.Channel.Id).ToArray(), batch.Select(c => c.Request.SaleNo).ToArray()]),
            Command(MembersSql, [references, references.Select(r => long.TryParse(r, out var id) ? id : -1).ToArray()]),
            Command(CardsSql, [batch.Select(c => c.Request.CardInfoId).Distinct().ToArray()]),
            Command(SettingKeys.ValueSql, [SettingKeys.TimeZone]));
        await using var r = await read.ExecuteReaderAsync(ct);
        var earlier = new Dictionary<(int, string), KeptAnswer>();
        var refunded = new HashSet<(int, string)>();
        while (await r.ReadAsync(ct))
        {
            earlier[(r.GetInt32(0), r.GetString(1))] = new KeptAnswer(r.GetString(2), r.GetString(3));
            if (r.GetInt32(4) != CardStatus.Effective)
                refunded.Add((r.GetInt32(0), r.GetString(1)));
        }
        await r.NextResultAsync(ct);
        var members = new List<Member>();
        while (await r.ReadAsync(ct))
            members.Add(new Member { Id = r.GetInt64(0), Code = r.GetString(1) });
        await r.NextResultAsync(ct);
        var cards = new Dictionary<string, Card>();
        while (await r.ReadAsync(ct))
            CardSaleRows.ReadCard(r, cards);
        await r.NextResultAsync(ct);
        var zone = BusinessZone.FromSetting(await r.ReadAsync(ct) ? r.GetString(0) : null);
        return new CardSaleBatchState(earlier, refunded, members.ToDictionary(m => m.Code), members.ToDictionary(m => m.Id), cards, zone);
    }

    public async Task WriteAsync(DbConnection connection, CardSaleBatchPlan plan, CancellationToken ct)
    {
        var sales = plan.Sales.Select(i => i.Sale).ToList();
        var cards = plan.Sales.SelectMany(i => i.Cards.Select(c => (i.Sale, Card: c))).ToList();
        var entries = cards.SelectMany(c => c.Card.Entries).ToList();
        await using var write = Batch(connection,
            sales.Count == 0 ? null : Command(InsertSalesAndCardsSql, [
                sales.Select(s => s.ChannelId).ToArray(), sales.Select(s => s.ChannelName).ToArray(), sales.Select(s => s.SaleNo).ToArray(),
                sales.Select(s => s.CardInfoId).ToArray(), sales.Select(s => s.MemberId).ToArray(), sales.Select(s => s.MemberCode).ToArray(),
                sales.Select(s => s.Num).ToArray(), sales.Select(s => s.PayAmt).ToArray(), sales.Select(s => s.SaleTime).ToArray(),
                sales.Select(s => s.SaleUser).ToArray(), sales.Select(s => s.SaleOrgCode).ToArray(), sales.Select(s => s.CreateTime).ToArray(),
                sales.Select(s => s.RequestHash).ToArray(), sales.Select(s => s.ResultJson).ToArray(),
                cards.Select(c => c.Card.Id).ToArray(), cards.Select(c => c.Sale.ChannelId).ToArray(), cards.Select(c => c.Sale.SaleNo).ToArray(),
                cards.Select(c => c.Card.CardInfoId).ToArray(), cards.Select(c => c.Card.MemberId).ToArray(),
                cards.Select(c => c.Card.MemberCode).ToArray(), cards.Select(c => c.Card.BeginTime).ToArray(),
                cards.Select(c => c.Card.EndTime).ToArray(), cards.Select(c => c.Card.CreateTime).ToArray(),
                cards.Select(c => c.Card.TimeZone).ToArray()]),
            entries.Count == 0 ? null : Command(InsertEntriesSql, [
                entries.Select(e => e.Id).ToArray(), entries.Select(e => e.MemberCardId).ToArray(), entries.Select(e => e.CardProductId).ToArray(),
                entries.Select(e => e.CardProductName).ToArray(), entries.Select(e => e.TotalUsedNum).ToArray(),
                entries.Select(e => e.CycleDays).ToArray(), entries.Select(e => e.CycleNum).ToArray(), entries.Select(e => e.BeginTime).ToArray(),
                entries.Select(e => e.EndTime).ToArray(), entries.Select(e => e.CreateTime).ToArray()]),
            OutboxRows.Postgres(plan.Events),
            Commit());
        await write.ExecuteNonQueryAsync(ct);
    }
}
