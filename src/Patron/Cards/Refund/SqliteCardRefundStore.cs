using System.Data.Common;
using Patron.Events;
using Patron.Writes;
using static Patron.Writes.SqliteSql;

namespace Patron.Cards;

/// <summary>Refunds on SQLite: the same reads and writes as <see cref="PostgresCardRefundStore"/>, a row at a time.</summary>
public sealed class SqliteCardRefundStore : IWriteStore<CardRefundCall, CardRefundBatchState, CardRefundBatchPlan>
{
    public async Task<CardRefundBatchState> ReadAsync(DbConnection connection, IReadOnlyList<CardRefundCall> batch, DateTimeOffset now, CancellationToken ct)
    {
        await BeginAsync(connection, ct);
        var (sales, cards, entries, names) = (new List<CardSale>(), new List<MemberCard>(), new List<UsageEntry>(), new Dictionary<string, (string, string)>());
        var sale = Prepare(connection, $"SELECT {RefundRows.SaleColumns} FROM card_sales WHERE channel_id = $1 AND sale_no = $2", 2);
        var card = Prepare(connection, $"SELECT {RefundRows.CardColumns} FROM member_cards WHERE sale_id = $1 ORDER BY id", 1);
        var entry = Prepare(connection, $"SELECT {UseTargets.EntryColumns} FROM usage_entries e WHERE e.member_card_id = $1", 1);
        var name = Prepare(connection, $"SELECT {RefundRows.CardInfoColumns} FROM cards WHERE id = $1", 1);
        foreach (var (channel, saleNo) in batch.Select(c => (c.ChannelId, c.SaleNo)).Distinct())
        {
            await using (var r = await sale.Bind([channel, saleNo]).ExecuteReaderAsync(ct))
                if (await r.ReadAsync(ct))
                    sales.Add(RefundRows.ReadSale(r));
                else
                    continue;
            await using (var r = await card.Bind([sales[^1].Id]).ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct))
                    cards.Add(RefundRows.ReadCard(r));
            await using (var r = await name.Bind([sales[^1].CardInfoId]).ExecuteReaderAsync(ct))
                if (await r.ReadAsync(ct))
                    names[sales[^1].CardInfoId] = (r.GetString(1), r.GetString(2));
        }
        foreach (var c in cards)
        {
            await using var r = await entry.Bind([c.Id]).ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                entries.Add(UseTargets.ReadEntry(r));
        }
        return RefundRows.State(sales, cards, entries, names);
    }

    public async Task WriteAsync(DbConnection connection, CardRefundBatchPlan plan, CancellationToken ct)
    {
        var sale = Prepare(connection,
            "UPDATE card_sales SET status = 2, refund_amt = $2, refund_time = $3, refund_result_json = $4 WHERE id = $1", 4);
        var card = Prepare(connection, "UPDATE member_cards SET status = 2, lock_version = $2 WHERE id = $1", 2);
        var entry = Prepare(connection, "UPDATE usage_entries SET status = 2, lock_version = $2 WHERE id = $1", 2);
        foreach (var (s, cards, _, _) in plan.Refunded)
        {
            await sale.Bind([s.Id, s.RefundAmt, s.RefundTime, s.RefundResultJson]).ExecuteNonQueryAsync(ct);
            foreach (var c in cards)
            {
                await card.Bind([c.Id, c.LockVersion]).ExecuteNonQueryAsync(ct);
                foreach (var e in c.Entries)
                    await entry.Bind([e.Id, e.LockVersion]).ExecuteNonQueryAsync(ct);
            }
        }
        await SqliteCardUseStore.WriteLogAsync(connection, plan.Log, ct);
        await AuditRows.WriteSqliteAsync(connection, plan.Audits, ct);
        await OutboxRows.WriteSqliteAsync(connection, plan.Events, ct);
        await CommitAsync(connection, ct);
    }
}
