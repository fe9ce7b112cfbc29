using Npgsql;
using Patron.Channels;
using Patron.Data;

namespace Patron.Cards;

/// <summary>
/// useMncard through group commit on PostgreSQL: a batch locks its usage entries in id order
/// (<c>FOR UPDATE</c>, so quotas hold across instances and batches cannot deadlock), decides each use
/// by <see cref="CardUseBatch"/>, and writes the uses, their log rows and each entry's new counts and
/// commits in one round trip. Cancels and refunds stay on <see cref="CardUsage"/>'s
/// compare-and-set, which the writer honours by raising lockVersion.
/// </summary>
public sealed class PostgresCardUseWriter([FromKeyedServices(WriterConnections.Key)] NpgsqlDataSource data, GroupCommitOptions options, ILogger<PostgresCardUseWriter> log, TimeProvider clock)
    : GroupCommit<CardUseCall, Outcome<UsageEntryView>>(options, log), ICardUses
{
    /// <summary>
    /// The batch's usage entries, locked in id order, with their cards and sales. Every row is found
    /// by its key, through a LATERAL subquery with a LIMIT, which PostgreSQL never flattens into a
    /// join: the plan stays a lookup per key whatever the tables held when a connection prepared it.
    /// The entries are looked up twice, by (card, product) for their ids and then by id, because a
    /// row locked inside a LATERAL subquery would be locked in the batch's order, not in id order,
    /// and two instances locking the same entries in different orders could deadlock.
    /// </summary>
    internal const string LockTargetsSql = """
        SELECT e.id, e.member_card_id, e.card_product_id, e.card_product_name, e.total_used_num, e.cycle_days, e.cycle_num,
            e.has_used_num, e.last_cycle, e.last_cycle_used, e.posid, e.lock_version, e.status, e.begin_time, e.end_time,
            e.create_time, c.status, c.member_code, c.card_info_id, c.sale_id, s.sale_org_code, s.sale_user, s.channel_name
        FROM usage_entries e
        CROSS JOIN LATERAL (SELECT status, member_code, card_info_id, sale_id FROM member_cards WHERE id = e.member_card_id LIMIT 1) AS c
        CROSS JOIN LATERAL (SELECT sale_org_code, sale_user, channel_name FROM card_sales WHERE id = c.sale_id LIMIT 1) AS s
        WHERE e.id = ANY(ARRAY(
            SELECT l.id FROM (SELECT unnest($1::text[]) AS member_card_id, unnest($2::text[]) AS card_product_id) AS k
            CROSS JOIN LATERAL (SELECT id FROM usage_entries AS u
                WHERE u.member_card_id = k.member_card_id AND u.card_product_id = k.card_product_id LIMIT 1) AS l))
        ORDER BY e.id
        FOR UPDATE OF e
        """;

    /// <summary>Uses already recorded under the batch's useNos, each looked up on its own (as in <see cref="LockTargetsSql"/>).</summary>
    internal const string EarlierUsesSql = """
        SELECT u.* FROM (SELECT unnest($1::integer[]) AS channel_id, unnest($2::text[]) AS use_no) AS k
        CROSS JOIN LATERAL (SELECT channel_id, use_no, request_hash, result_json FROM card_uses AS c
            WHERE c.channel_id = k.channel_id AND c.use_no = k.use_no LIMIT 1) AS u
        """;

    /// <summary>Live uses of cycles before an entry's last (uses sent late), counted for each (entry, cycle) on its own.</summary>
    internal const string OlderCycleCountsSql = """
        SELECT k.usage_entry_id, k.cycle, n.count FROM (SELECT unnest($1::text[]) AS usage_entry_id, unnest($2::integer[]) AS cycle) AS k
        CROSS JOIN LATERAL (SELECT count(*)::integer AS count FROM card_uses AS c
            WHERE c.usage_entry_id = k.usage_entry_id AND c.cycle = k.cycle AND c.cancelled_at IS NULL) AS n
        """;

    /// <summary>The batch's uses.</summary>
    internal const string InsertUsesSql = """
        INSERT INTO card_uses (channel_id, use_no, usage_entry_id, member_card_id, posid, use_time, cycle, created_at,
            request_hash, result_json)
        SELECT unnest($1::integer[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[]),
            unnest($6::bigint[]), unnest($7::integer[]), unnest($8::bigint[]), unnest($9::text[]), unnest($10::text[])
        """;

    /// <summary>Their log rows, in the order the uses were decided.</summary>
    internal const string InsertLogSql = """
        INSERT INTO card_use_log (usage_entry_id, kind, use_no, posid, channel_id, at, has_used_num_after)
        SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::integer[]),
            unnest($6::bigint[]), unnest($7::integer[])
        """;

    /// <summary>Each changed entry's new counts.</summary>
    internal const string UpdateEntriesSql = """
        UPDATE usage_entries AS e SET has_used_num = u.has_used_num, last_cycle = u.last_cycle,
            last_cycle_used = u.last_cycle_used, posid = u.posid, lock_version = u.lock_version
        FROM (SELECT
                unnest($1::text[]) AS id,
                unnest($2::integer[]) AS has_used_num,
                unnest($3::integer[]) AS last_cycle,
                unnest($4::integer[]) AS last_cycle_used,
                unnest($5::text[]) AS posid,
                unnest($6::integer[]) AS lock_version) AS u
        WHERE e.id = u.id AND e.id = ANY($1)
        """;

    /// <summary>
    /// A batch decided on known entries: begins, and sets each entry's new counts only where the row
    /// still has the lock version the batch was decided on (every change to an entry raises it: a
    /// use, a cancel, a refund), and the business zone is the one it used. If a single entry or the
    /// zone moved, <c>patron_expect_rows</c> fails the statement, so the transaction commits nothing.
    /// </summary>
    internal const string UpdateKnownEntriesSql = $"""
        WITH updated AS (
            UPDATE usage_entries AS e SET has_used_num = u.has_used_num, last_cycle = u.last_cycle,
                last_cycle_used = u.last_cycle_used, posid = u.posid, lock_version = u.lock_version
            FROM (SELECT
                    unnest($1::text[]) AS id,
                    unnest($2::integer[]) AS was_lock_version,
                    unnest($3::integer[]) AS has_used_num,
                    unnest($4::integer[]) AS last_cycle,
                    unnest($5::integer[]) AS last_cycle_used,
                    unnest($6::text[]) AS posid,
                    unnest($7::integer[]) AS lock_version) AS u
            WHERE e.id = u.id AND e.id = ANY($1) AND e.lock_version = u.was_lock_version
                AND coalesce((SELECT value FROM settings WHERE key = '{SettingKeys.TimeZone}'), '') = $8
            RETURNING e.id)
        SELECT patron_expect_rows(count(*), cardinality($1::text[])) FROM updated
        """;

    /// <summary>An entry with its card and sale is many times the size of a member's balance: fewer are kept.</summary>
    private readonly KnownStates<(string CardRef, string ProductId), UseTarget> _known = new(capacity: 20_000);

    /// <summary>The business zone's setting as the last read saw it ("" for none).</summary>
    private volatile string? _zoneSetting;

    /// <summary>Batches decided after a read under lock, and batches decided on known entries that committed.</summary>
    internal (long Read, long Known) Paths => _known.Paths;

    public Task<Outcome<UsageEntryView>> UseAsync(Channel channel, UseRequest request, CancellationToken ct) =>
        SubmitAsync(new CardUseCall(channel.Id, request), ct);

    /// <summary>
    /// A batch whose entries this process knows (<see cref="KnownStates{TKey, TState}"/>), none used
    /// for a cycle before its last, is decided on what it knows and settled in one round trip
    /// (<see cref="UpdateKnownEntriesSql"/>). Any other batch, or one whose known entries turn out
    /// stale, or one that meets a useNo taken earlier, takes two: BEGIN and the reads under lock,
    /// then the writes and COMMIT (<see cref="PostgresBatchTransaction"/>).
    /// </summary>
    protected override Task<Outcome<UsageEntryView>[]> CommitAsync(IReadOnlyList<CardUseCall> batch, CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        return _known.SettleAsync([.. batch.Select(c => (c.Request.CardRef, c.Request.CardProductId)).Distinct()],
            known =>
            {
                if (_zoneSetting is not { } setting)
                    return null;
                var zone = BusinessZone.FromSetting(setting);
                return CardUseBatch.OlderCycles(batch, known, zone, now).Count == 0 ? CommitKnownAsync(batch, known, setting, zone, now, ct) : null;
            },
            () => PostgresBatchTransaction.RunAsync(data, async connection =>
            {
                var (earlier, targets, setting) = await LoadAsync(connection, batch, ct);
                var zone = BusinessZone.FromSetting(setting);
                var older = CardUseBatch.OlderCycles(batch, targets, zone, now);
                var counts = older.Count == 0 ? [] : await CountOlderCyclesAsync(connection, older, ct);
                var plan = CardUseBatch.Decide(batch, new CardUseBatchState(earlier, targets, counts, zone), now);
                await WriteAndCommitAsync(connection, plan, ct);
                _zoneSetting = setting ?? "";
                // The decisions changed the entries in place: they are as committed.
                return (plan.Outcomes, (IReadOnlyDictionary<(string, string), UseTarget>)targets);
            }, ct));
    }

    /// <summary>One round trip: begin, the entries' checked update, the uses, their log rows, and the commit.</summary>
    private Task<(Outcome<UsageEntryView>[], IReadOnlyDictionary<(string, string), UseTarget>)> CommitKnownAsync(IReadOnlyList<CardUseCall> batch,
        Dictionary<(string, string), UseTarget> known, string zoneSetting, TimeZoneInfo zone, long now, CancellationToken ct) =>
        PostgresBatchTransaction.RunAsync(data, async connection =>
        {
            // The versions the batch is decided on, before its decisions raise them.
            var was = known.Values.ToDictionary(t => t.Entry.Id, t => t.Entry.LockVersion);
            var plan = CardUseBatch.Decide(batch, new CardUseBatchState([], known, [], zone), now);
            // Every entry the batch decided on is checked, changed or not: a refusal rests on its counts too.
            var entries = known.Values.Select(t => t.Entry).OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
            await using var write = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    PostgresBatchTransaction.Begin(),
                    new NpgsqlBatchCommand(UpdateKnownEntriesSql)
                    {
                        Parameters =
                        {
                            new() { Value = entries.Select(e => e.Id).ToArray() },
                            new() { Value = entries.Select(e => was[e.Id]).ToArray() },
                            new() { Value = entries.Select(e => e.HasUsedNum).ToArray() },
                            new() { Value = entries.Select(e => e.LastCycle).ToArray() },
                            new() { Value = entries.Select(e => e.LastCycleUsed).ToArray() },
                            new() { Value = entries.Select(e => e.Posid).ToArray() },
                            new() { Value = entries.Select(e => e.LockVersion).ToArray() },
                            new() { Value = zoneSetting },
                        },
                    },
                    InsertUses(plan.Uses),
                    InsertLog(plan.Log),
                    PostgresBatchTransaction.Commit(),
                },
            };
            await write.ExecuteNonQueryAsync(ct); // reads every statement's result: an error in any throws here
            return (plan.Outcomes, (IReadOnlyDictionary<(string, string), UseTarget>)known); // as the batch left them
        }, ct);

    private static async Task<(Dictionary<(int, string), CardUse>, Dictionary<(string, string), UseTarget>, string? ZoneSetting)> LoadAsync(
        NpgsqlConnection connection, IReadOnlyList<CardUseCall> batch, CancellationToken ct)
    {
        await using var read = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                PostgresBatchTransaction.Begin(),
                new NpgsqlBatchCommand(LockTargetsSql)
                {
                    Parameters =
                    {
                        new() { Value = batch.Select(c => c.Request.CardRef).ToArray() },
                        new() { Value = batch.Select(c => c.Request.CardProductId).ToArray() },
                    },
                },
                new NpgsqlBatchCommand(EarlierUsesSql)
                {
                    Parameters =
                    {
                        new() { Value = batch.Select(c => c.ChannelId).ToArray() },
                        new() { Value = batch.Select(c => c.Request.UseNo).ToArray() },
                    },
                },
                new NpgsqlBatchCommand(SettingKeys.ValueSql) { Parameters = { new() { Value = SettingKeys.TimeZone } } },
            },
        };
        await using var r = await read.ExecuteReaderAsync(ct);
        var targets = new Dictionary<(string, string), UseTarget>();
        while (await r.ReadAsync(ct))
        {
            var entry = new UsageEntry
            {
                Id = r.GetString(0), MemberCardId = r.GetString(1), CardProductId = r.GetString(2), CardProductName = r.GetString(3),
                TotalUsedNum = r.GetInt32(4), CycleDays = r.GetInt32(5), CycleNum = r.GetInt32(6), HasUsedNum = r.GetInt32(7),
                LastCycle = r.GetInt32(8), LastCycleUsed = r.GetInt32(9), Posid = r.IsDBNull(10) ? null : r.GetString(10),
                LockVersion = r.GetInt32(11), Status = r.GetInt32(12), BeginTime = r.GetInt64(13), EndTime = r.GetInt64(14),
                CreateTime = r.GetInt64(15),
            };
            var card = new MemberCard
            {
                Id = entry.MemberCardId, Status = r.GetInt32(16), MemberCode = r.GetString(17), CardInfoId = r.GetString(18),
                SaleId = r.GetInt64(19),
            };
            var sale = new CardSale
            {
                Id = card.SaleId, SaleOrgCode = r.IsDBNull(20) ? null : r.GetString(20), SaleUser = r.IsDBNull(21) ? null : r.GetString(21),
                ChannelName = r.GetString(22), SaleNo = "", CardInfoId = card.CardInfoId, MemberCode = card.MemberCode, RequestHash = "", ResultJson = "",
            };
            targets[(entry.MemberCardId, entry.CardProductId)] = new UseTarget(card, entry, sale);
        }
        await r.NextResultAsync(ct);
        var earlier = new Dictionary<(int, string), CardUse>();
        while (await r.ReadAsync(ct))
            earlier[(r.GetInt32(0), r.GetString(1))] = new CardUse
            {
                ChannelId = r.GetInt32(0), UseNo = r.GetString(1), RequestHash = r.GetString(2), ResultJson = r.GetString(3),
                UsageEntryId = "", MemberCardId = "", Posid = "",
            };
        await r.NextResultAsync(ct);
        return (earlier, targets, await r.ReadAsync(ct) ? r.GetString(0) : null);
    }

    private static async Task<Dictionary<(string, int), int>> CountOlderCyclesAsync(NpgsqlConnection connection,
        HashSet<(string EntryId, int Cycle)> older, CancellationToken ct)
    {
        await using var count = new NpgsqlCommand(OlderCycleCountsSql, connection)
        {
            Parameters =
            {
                new() { Value = older.Select(o => o.EntryId).ToArray() },
                new() { Value = older.Select(o => o.Cycle).ToArray() },
            },
        };
        var counts = new Dictionary<(string, int), int>();
        await using var r = await count.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            counts[(r.GetString(0), r.GetInt32(1))] = r.GetInt32(2);
        return counts;
    }

    /// <summary>One round trip: the uses, their log rows, each entry's new counts, and the commit.</summary>
    private static async Task WriteAndCommitAsync(NpgsqlConnection connection, CardUseBatchPlan plan, CancellationToken ct)
    {
        if (plan.Uses.Count == 0)
        {
            await using var commit = new NpgsqlBatch(connection) { BatchCommands = { PostgresBatchTransaction.Commit() } };
            await commit.ExecuteNonQueryAsync(ct);
            return;
        }
        var uses = plan.Uses;
        var log = plan.Log;
        var entries = plan.Changed;
        await using var write = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                InsertUses(uses),
                InsertLog(log),
                new NpgsqlBatchCommand(UpdateEntriesSql)
                {
                    Parameters =
                    {
                        new() { Value = entries.Select(e => e.Id).ToArray() },
                        new() { Value = entries.Select(e => e.HasUsedNum).ToArray() },
                        new() { Value = entries.Select(e => e.LastCycle).ToArray() },
                        new() { Value = entries.Select(e => e.LastCycleUsed).ToArray() },
                        new() { Value = entries.Select(e => e.Posid).ToArray() },
                        new() { Value = entries.Select(e => e.LockVersion).ToArray() },
                    },
                },
                PostgresBatchTransaction.Commit(),
            },
        };
        await write.ExecuteNonQueryAsync(ct); // reads every statement's result: an error in any throws here
    }

    private static NpgsqlBatchCommand InsertUses(List<CardUse> uses) => new(InsertUsesSql)
    {
        Parameters =
        {
            new() { Value = uses.Select(u => u.ChannelId).ToArray() },
            new() { Value = uses.Select(u => u.UseNo).ToArray() },
            new() { Value = uses.Select(u => u.UsageEntryId).ToArray() },
            new() { Value = uses.Select(u => u.MemberCardId).ToArray() },
            new() { Value = uses.Select(u => u.Posid).ToArray() },
            new() { Value = uses.Select(u => u.UseTime).ToArray() },
            new() { Value = uses.Select(u => u.Cycle).ToArray() },
            new() { Value = uses.Select(u => u.CreatedAt).ToArray() },
            new() { Value = uses.Select(u => u.RequestHash).ToArray() },
            new() { Value = uses.Select(u => u.ResultJson).ToArray() },
        },
    };

    private static NpgsqlBatchCommand InsertLog(List<CardUseLog> log) => new(InsertLogSql)
    {
        Parameters =
        {
            new() { Value = log.Select(l => l.UsageEntryId).ToArray() },
            new() { Value = log.Select(l => l.Kind).ToArray() },
            new() { Value = log.Select(l => l.UseNo).ToArray() },
            new() { Value = log.Select(l => l.Posid).ToArray() },
            new() { Value = log.Select(l => l.ChannelId).ToArray() },
            new() { Value = log.Select(l => l.At).ToArray() },
            new() { Value = log.Select(l => l.HasUsedNumAfter).ToArray() },
        },
    };
}
