using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Patron.Data;
using static Patron.Writes.PostgresSql;

namespace Patron.Cards;

/// <summary>
/// A member's card list on PostgreSQL: the rows <see cref="CardQueries"/> reads on SQLite, in one
/// statement whose plan stale statistics cannot turn into a scan of a whole table.
/// </summary>
/// <remarks>
/// After a burst of sales, until the next analyze counts it, the statistics expect hundreds or
/// thousands of cards a member. Planned from them, a plain join read a whole table at every call:
/// it hashed all the entries, or scanned all the cards, or with sequential scans off merged the
/// whole index of sales with the whole index of cards by sale (in the benchmark, calls of 50 to
/// 550 ms for seconds on end, where the lookups take about 2). So the plan has one shape: the
/// member's cards through their index (sequential scans off, <see cref="PlanSettings"/>), and each
/// card's sale and entries a lateral lookup behind <c>OFFSET 0</c>, which the planner cannot
/// flatten into a join. EF cannot say this (it turns an offset into a window over the whole
/// table), so the rows are read here.
/// </remarks>
internal static class PostgresCardList
{
    /// <summary>Left to choose, the planner reads the member's cards by scanning them all when it expects many.</summary>
    internal const string PlanSettings = "SELECT set_config('enable_seqscan', 'off', true)";

    internal const string Sql = $"""
        SELECT {UseTargets.EntryColumns},
            m.id, m.sale_id, m.card_info_id, m.member_id, m.member_code, m.status, m.begin_time, m.end_time, m.create_time,
            m.time_zone, m.lock_version,
            s.*,
            (SELECT k.name FROM cards AS k WHERE k.id = m.card_info_id)
        FROM member_cards AS m
        CROSS JOIN LATERAL (SELECT c.channel_name, c.sale_no, c.pay_amt, c.sale_time, c.sale_user, c.sale_org_code FROM card_sales AS c
            WHERE c.id = m.sale_id AND ($2::integer IS NULL OR c.channel_id = $2) OFFSET 0) AS s
        LEFT JOIN LATERAL (SELECT * FROM usage_entries AS u WHERE u.member_card_id = m.id OFFSET 0) AS e ON true
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
            var list = new NpgsqlBatchCommand(Sql)
            {
                Parameters =
                {
                    new NpgsqlParameter { Value = memberId },
                    new NpgsqlParameter { Value = soldBy is { } channel ? channel : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer },
                },
            };
            // Inside a caller's transaction the setting would outlast the list, so there the list goes alone.
            var set = db.Database.CurrentTransaction is null;
            await using var batch = Planned(db.Database.GetDbConnection(), list, set);
            await using var r = await batch.ExecuteReaderAsync(ct);
            if (set)
                await r.NextResultAsync(ct); // past the setting's own row
            while (await r.ReadAsync(ct))
                yield return Row(r);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// One round trip: <see cref="PlanSettings"/>, then <paramref name="list"/> planned under it. A
    /// round trip's statements are one transaction up to its Sync, and the setting ends with it.
    /// </summary>
    internal static NpgsqlBatch Planned(DbConnection connection, NpgsqlBatchCommand list, bool set) =>
        Batch(connection, set ? Command(PlanSettings) : null, list);

    /// <summary>The entry's columns first, as <see cref="UseTargets.ReadEntry"/> reads them; null for a card without entries.</summary>
    private static CardQueries.CardRow Row(DbDataReader r)
    {
        var entry = r.IsDBNull(0) ? null : UseTargets.ReadEntry(r);
        var card = new MemberCard
        {
            Id = r.GetString(16), SaleId = r.GetInt64(17), CardInfoId = r.GetString(18), MemberId = r.GetInt64(19), MemberCode = r.GetString(20),
            Status = r.GetInt32(21), BeginTime = r.GetInt64(22), EndTime = r.GetInt64(23), CreateTime = r.GetInt64(24), TimeZone = r.GetString(25),
            LockVersion = r.GetInt32(26),
        };
        var sale = new SaleOfCard(r.GetString(27), r.GetString(28), r.GetDecimal(29), r.GetInt64(30), Text(r, 31), Text(r, 32));
        return new CardQueries.CardRow(card, entry, sale, Text(r, 33));
    }

    private static string? Text(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
