using System.Data.Common;
using Patron.Data;
using Patron.Events;
using Patron.Members;
using Patron.Writes;
using static Patron.Writes.SqliteSql;

namespace Patron.Cards;

/// <summary>Card sales on SQLite: the same reads and writes as <see cref="PostgresCardSaleStore"/>, a row at a time.</summary>
public sealed class SqliteCardSaleStore : IWriteStore<SaleCall, CardSaleBatchState, CardSaleBatchPlan>
{
    private const string CardSql = $"""
        SELECT {CardSaleRows.CardColumns} FROM cards c LEFT JOIN card_products p ON p.card_id = c.id WHERE c.id = $1 ORDER BY p.id
        """;

    private const string InsertSaleSql = """
        INSERT INTO card_sales (channel_id, channel_name, sale_no, card_info_id, member_id, member_code, num, pay_amt, sale_time, sale_user,
            sale_org_code, create_time, request_hash, result_json, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1) RETURNING id
        """;

    private const string InsertCardSql = """
        INSERT INTO member_cards (id, sale_id, card_info_id, member_id, member_code, status, begin_time, end_time, create_time, lock_version,
            time_zone)
        VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, 0, $9)
        """;

    private const string InsertEntrySql = """
        INSERT INTO usage_entries (id, member_card_id, card_product_id, card_product_name, total_used_num, cycle_days, cycle_num,
            begin_time, end_time, create_time, has_used_num, last_cycle, last_cycle_used, posid, lock_version, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, 0, NULL, 0, 1)
        """;

    public async Task<CardSaleBatchState> ReadAsync(DbConnection connection, IReadOnlyList<SaleCall> batch, DateTimeOffset now, CancellationToken ct)
    {
        await BeginAsync(connection, ct);
        var earlier = new Dictionary<(int, string), KeptAnswer>();
        var refunded = new HashSet<(int, string)>();
        var findSale = Prepare(connection, "SELECT request_hash, result_json, status FROM card_sales WHERE channel_id = $1 AND sale_no = $2", 2);
        foreach (var key in batch.Select(c => (c.Channel.Id, c.Request.SaleNo)).Distinct())
        {
            await using var r = await findSale.Bind([key.Id, key.SaleNo]).ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
                continue;
            earlier[key] = new KeptAnswer(r.GetString(0), r.GetString(1));
            if (r.GetInt32(2) != CardStatus.Effective)
                refunded.Add(key);
        }
        var members = new Dictionary<long, Member>();
        var findMember = Prepare(connection, "SELECT id, code FROM members WHERE code = $1 OR id = $2", 2);
        foreach (var reference in batch.Select(c => c.Request.MemberId).Distinct())
        {
            await using var r = await findMember.Bind([reference, long.TryParse(reference, out var id) ? id : -1]).ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                members[r.GetInt64(0)] = new Member { Id = r.GetInt64(0), Code = r.GetString(1) };
        }
        var cards = new Dictionary<string, Card>();
        var findCard = Prepare(connection, CardSql, 1);
        foreach (var id in batch.Select(c => c.Request.CardInfoId).Distinct())
        {
            await using var r = await findCard.Bind([id]).ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                CardSaleRows.ReadCard(r, cards);
        }
        var zone = BusinessZone.FromSetting(await SettingAsync(connection, SettingKeys.TimeZone, ct));
        return new CardSaleBatchState(earlier, refunded, members.Values.ToDictionary(m => m.Code), members, cards, zone);
    }

    public async Task WriteAsync(DbConnection connection, CardSaleBatchPlan plan, CancellationToken ct)
    {
        var sale = Prepare(connection, InsertSaleSql, 14);
        var card = Prepare(connection, InsertCardSql, 9);
        var entry = Prepare(connection, InsertEntrySql, 10);
        foreach (var (s, cards) in plan.Sales)
        {
            s.Id = (long)(await sale.Bind([s.ChannelId, s.ChannelName, s.SaleNo, s.CardInfoId, s.MemberId, s.MemberCode, s.Num, s.PayAmt, s.SaleTime,
                s.SaleUser, s.SaleOrgCode, s.CreateTime, s.RequestHash, s.ResultJson]).ExecuteScalarAsync(ct))!;
            foreach (var c in cards)
            {
                await card.Bind([c.Id, s.Id, c.CardInfoId, c.MemberId, c.MemberCode, c.BeginTime, c.EndTime, c.CreateTime, c.TimeZone]).ExecuteNonQueryAsync(ct);
                foreach (var e in c.Entries)
                    await entry.Bind([e.Id, e.MemberCardId, e.CardProductId, e.CardProductName, e.TotalUsedNum, e.CycleDays, e.CycleNum,
                        e.BeginTime, e.EndTime, e.CreateTime]).ExecuteNonQueryAsync(ct);
            }
        }
        await OutboxRows.WriteSqliteAsync(connection, plan.Events, ct);
        await CommitAsync(connection, ct);
    }
}
