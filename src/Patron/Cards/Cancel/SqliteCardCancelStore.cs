using System.Data.Common;
using Patron.Events;
using Patron.Writes;
using static Patron.Writes.SqliteSql;

namespace Patron.Cards;

/// <summary>Cancels on SQLite: the same reads and writes as <see cref="PostgresCardCancelStore"/>, a row at a time.</summary>
public sealed class SqliteCardCancelStore : IWriteStore<CardCancelCall, CardCancelBatchState, CardCancelBatchPlan>
{
    private const string TargetSql = $"""
        {SqliteCardUseStore.SelectTargets}
        WHERE e.id = $1
        """;

    public async Task<CardCancelBatchState> ReadAsync(DbConnection connection, IReadOnlyList<CardCancelCall> batch, DateTimeOffset now, CancellationToken ct)
    {
        await BeginAsync(connection, ct);
        var found = new List<CardUse>();
        var find = Prepare(connection, $"SELECT {CardCancels.UseColumns} FROM card_uses WHERE channel_id = $1 AND use_no = $2", 2);
        foreach (var (channel, useNo) in batch.Select(c => (c.ChannelId, c.UseNo)).Distinct())
        {
            await using var r = await find.Bind([channel, useNo]).ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
                found.Add(CardCancels.ReadUse(r));
        }
        var targets = new Dictionary<string, UseTarget>();
        var cycles = new Dictionary<string, List<int>>();
        var target = Prepare(connection, TargetSql, 1);
        var live = Prepare(connection, "SELECT cycle FROM card_uses WHERE usage_entry_id = $1 AND cancelled_at IS NULL", 1);
        foreach (var id in found.Select(u => u.UsageEntryId).Distinct())
        {
            await using (var r = await target.Bind([id]).ExecuteReaderAsync(ct))
                if (await r.ReadAsync(ct))
                    targets[id] = UseTargets.Read(r);
            await using (var r = await live.Bind([id]).ExecuteReaderAsync(ct))
            {
                cycles[id] = [];
                while (await r.ReadAsync(ct))
                    cycles[id].Add(r.GetInt32(0));
            }
        }
        return new CardCancelBatchState(found.ToDictionary(u => (u.ChannelId, u.UseNo), u => new CancelTarget(u, targets[u.UsageEntryId])), cycles);
    }

    public async Task WriteAsync(DbConnection connection, CardCancelBatchPlan plan, CancellationToken ct)
    {
        var cancel = Prepare(connection, "UPDATE card_uses SET cancelled_at = $2, cancel_result_json = $3 WHERE id = $1", 3);
        foreach (var u in plan.Cancelled)
            await cancel.Bind([u.Id, u.CancelledAt, u.CancelResultJson]).ExecuteNonQueryAsync(ct);
        await SqliteCardUseStore.WriteLogAsync(connection, plan.Log, ct);
        await SqliteCardUseStore.UpdateEntriesAsync(connection, plan.Changed, ct);
        await AuditRows.WriteSqliteAsync(connection, plan.Audits, ct);
        await OutboxRows.WriteSqliteAsync(connection, plan.Events, ct);
        await CommitAsync(connection, ct);
    }
}
