using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Patron.Data;

namespace Patron.Cards;

/// <summary>
/// A member's card list on PostgreSQL: the rows <see cref="CardQueries"/> reads on SQLite, in one
/// statement whose plan cannot follow stale statistics into a scan of the entries table.
/// </summary>
/// <remarks>
/// Joined plainly to the cards, the entries were planned from the statistics: after a burst of
/// sales, before the next analyze counted it, PostgreSQL expected hundreds of cards a member and
/// hashed the whole entries table at every call (in the benchmark, hundreds of calls of 50 to 300 ms
/// under load, where a lookup a card took about 2). Each card's entries are a lateral lookup behind
/// <c>OFFSET 0</c>, which the planner cannot flatten into a join. EF cannot say this (it turns an
/// offset into a window over the whole table), so the rows are read here.
/// </remarks>
internal static class PostgresCardList
{
    internal const string Sql = """
        SELECT m.id, m.sale_id, m.card_info_id, m.member_id, m.member_code, m.status, m.begin_time, m.end_time, m.create_time,
            m.time_zone, m.lock_version,
            s.channel_name, s.sale_no, s.pay_amt, s.sale_time, s.sale_user, s.sale_org_code,
            (SELECT k.name FROM cards AS k WHERE k.id = m.card_info_id),
            u.id, u.card_product_id, u.card_product_name, u.total_used_num, u.cycle_days, u.cycle_num, u.has_used_num, u.last_cycle,
            u.last_cycle_used, u.posid, u.lock_version, u.status, u.begin_time, u.end_time, u.create_time
        FROM member_cards AS m
        JOIN card_sales AS s ON s.id = m.sale_id AND ($2::integer IS NULL OR s.channel_id = $2)
        LEFT JOIN LATERAL (SELECT * FROM usage_entries AS e WHERE e.member_card_id = m.id OFFSET 0) AS u ON true
        WHERE m.member_id = $1
        ORDER BY m.create_time DESC, m.id
        """;

    /// <summary>A row per entry (or per card without one), a card's rows together, newest card first.</summary>
    public static async IAsyncEnumerable<CardQueries.CardRow> ReadAsync(PatronDb db, long memberId, int? soldBy,
        [EnumeratorCancellation] CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand(Sql, (NpgsqlConnection)db.Database.GetDbConnection())
            {
                Parameters =
                {
                    new NpgsqlParameter { Value = memberId },
                    new NpgsqlParameter { Value = soldBy is { } channel ? channel : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer },
                },
            };
            await using var r = await command.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                yield return Row(r);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static CardQueries.CardRow Row(DbDataReader r)
    {
        var card = new MemberCard
        {
            Id = r.GetString(0), SaleId = r.GetInt64(1), CardInfoId = r.GetString(2), MemberId = r.GetInt64(3), MemberCode = r.GetString(4),
            Status = r.GetInt32(5), BeginTime = r.GetInt64(6), EndTime = r.GetInt64(7), CreateTime = r.GetInt64(8), TimeZone = r.GetString(9),
            LockVersion = r.GetInt32(10),
        };
        var sale = new SaleOfCard(r.GetString(11), r.GetString(12), r.GetDecimal(13), r.GetInt64(14), Text(r, 15), Text(r, 16));
        var entry = r.IsDBNull(18) ? null : new UsageEntry
        {
            Id = r.GetString(18), MemberCardId = card.Id, CardProductId = r.GetString(19), CardProductName = r.GetString(20),
            TotalUsedNum = r.GetInt32(21), CycleDays = r.GetInt32(22), CycleNum = r.GetInt32(23), HasUsedNum = r.GetInt32(24),
            LastCycle = r.GetInt32(25), LastCycleUsed = r.GetInt32(26), Posid = Text(r, 27), LockVersion = r.GetInt32(28),
            Status = r.GetInt32(29), BeginTime = r.GetInt64(30), EndTime = r.GetInt64(31), CreateTime = r.GetInt64(32),
        };
        return new CardQueries.CardRow(card, entry, sale, Text(r, 17));
    }

    private static string? Text(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
