using System.Data.Common;
using Patron.Events;
using Patron.Writes;
using static Patron.Writes.PostgresSql;

namespace Patron.Cards;

/// <summary>
/// Refunds on PostgreSQL: the sales locked in id order, then their entries, in id order as uses
/// lock them, so that a use racing a refund either lands before it or sees the entry void.
/// </summary>
public sealed class PostgresCardRefundStore : IWriteStore<CardRefundCall, CardRefundBatchState, CardRefundBatchPlan>
{
    /// <summary>The ids of the batch's sales, each (channel, saleNo) looked up on its own.</summary>
    private const string SaleIds = """
        ARRAY(SELECT s.id FROM (SELECT unnest($1::integer[]) AS channel_id, unnest($2::text[]) AS sale_no) AS k
            CROSS JOIN LATERAL (SELECT id FROM card_sales AS c WHERE c.channel_id = k.channel_id AND c.sale_no = k.sale_no LIMIT 1) AS s)
        """;

    internal const string LockSalesSql = $"SELECT {RefundRows.SaleColumns} FROM card_sales WHERE id = ANY({SaleIds}) ORDER BY id FOR UPDATE";

    internal const string CardsSql = $"SELECT {RefundRows.CardColumns} FROM member_cards WHERE sale_id = ANY({SaleIds})";

    /// <summary>
    /// The entries' ids first, then the entries by id in id order: ordered by id with the cards as
    /// its only condition, a plan made on empty tables walks the whole primary key instead.
    /// </summary>
    internal const string LockEntriesSql = $"""
        SELECT {UseTargets.EntryColumns} FROM usage_entries e
        WHERE e.id = ANY(ARRAY(SELECT u.id FROM usage_entries u
            WHERE u.member_card_id = ANY(ARRAY(SELECT id FROM member_cards WHERE sale_id = ANY({SaleIds})))))
        ORDER BY e.id FOR UPDATE
        """;

    internal const string NamesSql = $"SELECT {RefundRows.CardInfoColumns} FROM cards WHERE id = ANY(ARRAY(SELECT card_info_id FROM card_sales WHERE id = ANY({SaleIds})))";

    internal const string VoidSalesSql = """
        UPDATE card_sales AS s SET status = 2, refund_amt = u.amount, refund_time = u.at, refund_result_json = u.json
        FROM (SELECT unnest($1::bigint[]) AS id, unnest($2::numeric[]) AS amount, unnest($3::bigint[]) AS at, unnest($4::text[]) AS json) AS u
        WHERE s.id = u.id AND s.id = ANY($1)
        """;

    internal const string VoidCardsSql = """
        UPDATE member_cards AS c SET status = 2, lock_version = u.lock_version
        FROM (SELECT unnest($1::text[]) AS id, unnest($2::integer[]) AS lock_version) AS u
        WHERE c.id = u.id AND c.id = ANY($1)
        """;

    internal const string VoidEntriesSql = """
        UPDATE usage_entries AS e SET status = 2, lock_version = u.lock_version
        FROM (SELECT unnest($1::text[]) AS id, unnest($2::integer[]) AS lock_version) AS u
        WHERE e.id = u.id AND e.id = ANY($1)
        """;

    public async Task<CardRefundBatchState> ReadAsync(DbConnection connection, IReadOnlyList<CardRefundCall> batch, DateTimeOffset now, CancellationToken ct)
    {
        object?[] keys = [batch.Select(c => c.ChannelId).ToArray(), batch.Select(c => c.SaleNo).ToArray()];
        await using var read = Batch(connection, Begin(), Command(LockSalesSql, keys), Command(CardsSql, keys), Command(LockEntriesSql, keys),
            Command(NamesSql, keys));
        await using var r = await read.ExecuteReaderAsync(ct);
        var (sales, cards, entries, names) = (new List<CardSale>(), new List<MemberCard>(), new List<UsageEntry>(), new Dictionary<string, (string, string)>());
        while (await r.ReadAsync(ct))
            sales.Add(RefundRows.ReadSale(r));
        await r.NextResultAsync(ct);
        while (await r.ReadAsync(ct))
            cards.Add(RefundRows.ReadCard(r));
        await r.NextResultAsync(ct);
        while (await r.ReadAsync(ct))
            entries.Add(UseTargets.ReadEntry(r));
        await r.NextResultAsync(ct);
        while (await r.ReadAsync(ct))
            names[r.GetString(0)] = (r.GetString(1), r.GetString(2));
        return RefundRows.State(sales, cards, entries, names);
    }

    public async Task WriteAsync(DbConnection connection, CardRefundBatchPlan plan, CancellationToken ct)
    {
        var sales = plan.Refunded.Select(t => t.Sale).ToList();
        var cards = plan.Refunded.SelectMany(t => t.Cards).ToList();
        var entries = cards.SelectMany(c => c.Entries).ToList();
        await using var write = Batch(connection,
            sales.Count == 0 ? null : Command(VoidSalesSql, [sales.Select(s => s.Id).ToArray(), sales.Select(s => s.RefundAmt!.Value).ToArray(),
                sales.Select(s => s.RefundTime!.Value).ToArray(), sales.Select(s => s.RefundResultJson).ToArray()]),
            cards.Count == 0 ? null : Command(VoidCardsSql, [cards.Select(c => c.Id).ToArray(), cards.Select(c => c.LockVersion).ToArray()]),
            entries.Count == 0 ? null : Command(VoidEntriesSql, [entries.Select(e => e.Id).ToArray(), entries.Select(e => e.LockVersion).ToArray()]),
            plan.Log.Count == 0 ? null : PostgresCardUseStore.InsertLog(plan.Log),
            AuditRows.Postgres(plan.Audits),
            OutboxRows.Postgres(plan.Events),
            Commit());
        await write.ExecuteNonQueryAsync(ct);
    }
}
