using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Npgsql;
using NpgsqlTypes;
using Patron.Data;
using Patron.Levels;

namespace Patron.Points;

/// <summary>
/// Point/Add through group commit: each batch locks its members, decides every request by
/// <see cref="PointsBatch"/>, appends the ledger rows, updates each member once, and commits once.
/// Operator adjustments, rare and audited, keep to <see cref="PointsLedger"/>; both lock the member row.
/// </summary>
public abstract class PointsWriter(GroupCommitOptions options, ILogger log, TimeProvider clock)
    : GroupCommit<PointChange, Outcome<PointEntry>>(options, log)
{
    /// <summary>Validates the request's shape at once, then waits for the batch that carries it.</summary>
    public Task<Outcome<PointEntry>> AddAsync(PointChange change, CancellationToken ct) =>
        PointRules.Validate(change.BusiType, change.BusiBillNum, change.ChangeValue) is { } invalid
            ? Task.FromResult<Outcome<PointEntry>>(invalid)
            : SubmitAsync(change, ct);

    protected DateTimeOffset Now() => clock.GetUtcNow();

    protected static long[] MemberIds(IReadOnlyList<PointChange> batch) =>
        [.. batch.Select(c => c.MemberId).Distinct().Order()];
}

public sealed class PostgresPointsWriter([FromKeyedServices(WriterConnections.Key)] NpgsqlDataSource data, GroupCommitOptions options, ILogger<PointsWriter> log, TimeProvider clock)
    : PointsWriter(options, log, clock)
{
    /// <summary>The batch's members, locked in id order.</summary>
    internal const string LockMembersSql = "SELECT id, balance, lifetime_earned, level_id FROM members WHERE id = ANY($1) ORDER BY id FOR UPDATE";

    /// <summary>
    /// Ledger rows already written under the batch's idempotency keys. Each key is looked up on its
    /// own: PostgreSQL never flattens a LATERAL subquery with a LIMIT into a join, so the plan stays a
    /// unique-index lookup per key, whatever the table held when a connection prepared it. (A join of
    /// the keys to the table, planned while it was empty, walks the whole index at every batch.)
    /// </summary>
    internal const string EarlierKeysSql = $"""
        SELECT l.* FROM (SELECT unnest($1::integer[]) AS channel_id, unnest($2::text[]) AS idempotency_key) AS k
        CROSS JOIN LATERAL (SELECT {LedgerColumns} FROM point_ledger AS p
            WHERE p.channel_id = k.channel_id AND p.idempotency_key = k.idempotency_key LIMIT 1) AS l
        """;

    /// <summary>The level table.</summary>
    internal const string LevelsSql = "SELECT id, name, threshold FROM levels ORDER BY threshold";

    /// <summary>What the levels decide on, as one text that changes whenever they do: the table and the level basis.</summary>
    private const string LevelsVersion = $"""
        coalesce((SELECT string_agg(id || ':' || threshold || ':' || name, ',' ORDER BY id) FROM levels), '')
            || '|' || coalesce((SELECT value FROM settings WHERE key = '{SettingKeys.LevelBasis}'), '')
        """;

    /// <summary>The levels' version (<see cref="LevelsVersion"/>), read with the table.</summary>
    internal const string LevelsVersionSql = $"SELECT {LevelsVersion}";

    /// <summary>The ledger rows, in batch order.</summary>
    internal const string InsertLedgerSql = """
        INSERT INTO point_ledger (member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after,
            level_before, level_after, channel_id, actor, created_at, idempotency_key, request_hash)
        SELECT unnest($1::bigint[]), unnest($2::text[]), unnest($3::text[]), unnest($4::bigint[]), unnest($5::bigint[]),
            unnest($6::bigint[]), unnest($7::smallint[]), unnest($8::smallint[]), unnest($9::integer[]), unnest($10::text[]),
            unnest($11::timestamptz[]), unnest($12::text[]), unnest($13::text[])
        RETURNING auto_id
        """;

    /// <summary>Each changed member's new balance and level.</summary>
    internal const string UpdateMembersSql = """
        UPDATE members AS m SET balance = u.balance, lifetime_earned = u.lifetime_earned, level_id = u.level_id
        FROM (SELECT
                unnest($1::bigint[]) AS id,
                unnest($2::bigint[]) AS balance,
                unnest($3::bigint[]) AS lifetime_earned,
                unnest($4::smallint[]) AS level_id) AS u
        WHERE m.id = u.id AND m.id = ANY($1)
        """;

    /// <summary>
    /// A batch decided on known states: begins, and sets each member's new state only where the
    /// row still holds the state the batch was decided on, and the levels are the ones it used. The
    /// update waits for any transaction holding a row and checks the row as that one left it; if a
    /// single member or the levels moved, <c>patron_expect_rows</c> fails the statement, so the
    /// transaction commits nothing.
    /// </summary>
    internal const string UpdateKnownMembersSql = $"""
        WITH updated AS (
            UPDATE members AS m SET balance = u.balance, lifetime_earned = u.lifetime_earned, level_id = u.level_id
            FROM (SELECT
                    unnest($1::bigint[]) AS id,
                    unnest($2::bigint[]) AS was_balance,
                    unnest($3::bigint[]) AS was_lifetime_earned,
                    unnest($4::smallint[]) AS was_level_id,
                    unnest($5::bigint[]) AS balance,
                    unnest($6::bigint[]) AS lifetime_earned,
                    unnest($7::smallint[]) AS level_id) AS u
            WHERE m.id = u.id AND m.id = ANY($1) AND m.balance = u.was_balance AND m.lifetime_earned = u.was_lifetime_earned
                AND m.level_id = u.was_level_id AND ({LevelsVersion}) = $8
            RETURNING m.id)
        SELECT patron_expect_rows(count(*), cardinality($1::bigint[])) FROM updated
        """;

    private const string LedgerColumns =
        "auto_id, member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before, level_after, " +
        "channel_id, actor, created_at, idempotency_key, request_hash";

    private readonly KnownStates<long, PointsState> _known = new();

    /// <summary>The levels as the last read saw them: one object, so the table and its version are never torn apart.</summary>
    private sealed record LevelsSeen(LevelTable Table, string Version);

    private volatile LevelsSeen? _levels;

    /// <summary>Batches decided after a read under lock, and batches decided on known states that committed.</summary>
    internal (long Read, long Known) Paths => _known.Paths;

    /// <summary>
    /// A batch whose members this process knows (<see cref="KnownStates{TKey, TState}"/>) is decided
    /// on what it knows and settled in one round trip (<see cref="UpdateKnownMembersSql"/>). Any other
    /// batch, or one whose known states turn out stale, or one that meets an idempotency key taken
    /// earlier, takes two: BEGIN and the reads under lock, then the writes and COMMIT
    /// (<see cref="PostgresBatchTransaction"/>).
    /// </summary>
    protected override Task<Outcome<PointEntry>[]> CommitAsync(IReadOnlyList<PointChange> batch, CancellationToken ct) =>
        _known.SettleAsync(MemberIds(batch),
            known => _levels is { } levels ? CommitKnownAsync(batch, known, levels, ct) : null,
            () => PostgresBatchTransaction.RunAsync(data, async connection =>
            {
                var (state, version) = await LoadAsync(connection, batch, ct);
                var plan = PointsBatch.Decide(batch, state, Now());
                await WriteAndCommitAsync(connection, plan, ct);
                _levels = new LevelsSeen(state.Levels, version);
                var after = new Dictionary<long, PointsState>(state.Members);
                foreach (var (id, changed) in plan.Changed)
                    after[id] = changed;
                return (plan.Outcomes, (IReadOnlyDictionary<long, PointsState>)after);
            }, ct));

    /// <summary>One round trip: begin, the members' checked update, the ledger rows, and the commit.</summary>
    private Task<(Outcome<PointEntry>[], IReadOnlyDictionary<long, PointsState>)> CommitKnownAsync(IReadOnlyList<PointChange> batch,
        Dictionary<long, PointsState> known, LevelsSeen levels, CancellationToken ct) =>
        PostgresBatchTransaction.RunAsync(data, async connection =>
        {
            var plan = PointsBatch.Decide(batch, new PointsBatchState(known, [], levels.Table), Now());
            // Every member the batch decided on is checked, changed or not: a refusal rests on its state too.
            var members = known.OrderBy(m => m.Key).Select(m => (Id: m.Key, Was: m.Value, Now: plan.Changed.GetValueOrDefault(m.Key, m.Value))).ToList();
            await using var write = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    PostgresBatchTransaction.Begin(),
                    new NpgsqlBatchCommand(UpdateKnownMembersSql)
                    {
                        Parameters =
                        {
                            new() { Value = members.Select(m => m.Id).ToArray() },
                            new() { Value = members.Select(m => m.Was.Balance).ToArray() },
                            new() { Value = members.Select(m => m.Was.LifetimeEarned).ToArray() },
                            new() { Value = members.Select(m => (short)m.Was.LevelId).ToArray() },
                            new() { Value = members.Select(m => m.Now.Balance).ToArray() },
                            new() { Value = members.Select(m => m.Now.LifetimeEarned).ToArray() },
                            new() { Value = members.Select(m => (short)m.Now.LevelId).ToArray() },
                            new() { Value = levels.Version },
                        },
                    },
                    InsertLedger(plan.NewEntries),
                    PostgresBatchTransaction.Commit(),
                },
            };
            await using var reader = await write.ExecuteReaderAsync(ct);
            await reader.NextResultAsync(ct); // past the check's one row, to the ledger's ids
            await ReadAutoIdsAsync(reader, plan.NewEntries, ct);
            return (plan.Outcomes, (IReadOnlyDictionary<long, PointsState>)members.ToDictionary(m => m.Id, m => m.Now));
        }, ct);

    /// <summary>
    /// One round trip: begin, lock the members in id order (so batches cannot deadlock), earlier keys,
    /// the levels and their version.
    /// </summary>
    private static async Task<(PointsBatchState, string LevelsVersion)> LoadAsync(NpgsqlConnection connection, IReadOnlyList<PointChange> batch,
        CancellationToken ct)
    {
        var keyed = batch.Where(c => c.IdempotencyKey is not null).ToList();
        await using var read = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                PostgresBatchTransaction.Begin(),
                new NpgsqlBatchCommand(LockMembersSql)
                {
                    Parameters = { new() { Value = MemberIds(batch) } },
                },
                new NpgsqlBatchCommand(EarlierKeysSql)
                {
                    Parameters =
                    {
                        new() { Value = keyed.Select(c => c.ChannelId ?? -1).ToArray() },
                        new() { Value = keyed.Select(c => c.IdempotencyKey!).ToArray() },
                    },
                },
                new NpgsqlBatchCommand(LevelsSql),
                new NpgsqlBatchCommand(SettingKeys.ValueSql) { Parameters = { new() { Value = SettingKeys.LevelBasis } } },
                new NpgsqlBatchCommand(LevelsVersionSql),
            },
        };
        await using var reader = await read.ExecuteReaderAsync(ct);
        var members = new Dictionary<long, PointsState>();
        while (await reader.ReadAsync(ct))
            members[reader.GetInt64(0)] = new PointsState(reader.GetInt64(1), reader.GetInt64(2), (byte)reader.GetInt16(3));
        await reader.NextResultAsync(ct);
        var earlier = new Dictionary<(int?, string), PointEntry>();
        while (await reader.ReadAsync(ct))
        {
            var entry = ReadEntry(reader);
            earlier[(entry.ChannelId, entry.IdempotencyKey!)] = entry;
        }
        await reader.NextResultAsync(ct);
        var levels = new List<Level>();
        while (await reader.ReadAsync(ct))
            levels.Add(new Level { Id = (byte)reader.GetInt16(0), Name = reader.GetString(1), Threshold = reader.GetInt64(2) });
        await reader.NextResultAsync(ct);
        var basis = await reader.ReadAsync(ct) ? reader.GetString(0) : null;
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        var version = reader.GetString(0);
        return (new PointsBatchState(members, earlier, new LevelTable(levels, LevelTable.ParseBasis(basis) ?? LevelBasis.Lifetime)), version);
    }

    /// <summary>
    /// One round trip: the ledger rows in one set-based insert, in batch order (so AutoIds rise in
    /// the order the balances chain), one update per member, and the commit.
    /// </summary>
    private static async Task WriteAndCommitAsync(NpgsqlConnection connection, PointsBatchPlan plan, CancellationToken ct)
    {
        var rows = plan.NewEntries;
        if (rows.Count == 0)
        {
            await using var commit = new NpgsqlBatch(connection) { BatchCommands = { PostgresBatchTransaction.Commit() } };
            await commit.ExecuteNonQueryAsync(ct);
            return;
        }
        var members = plan.Changed.OrderBy(m => m.Key).ToList();
        await using var write = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                InsertLedger(rows),
                new NpgsqlBatchCommand(UpdateMembersSql)
                {
                    Parameters =
                    {
                        new() { Value = members.Select(m => m.Key).ToArray() },
                        new() { Value = members.Select(m => m.Value.Balance).ToArray() },
                        new() { Value = members.Select(m => m.Value.LifetimeEarned).ToArray() },
                        new() { Value = members.Select(m => (short)m.Value.LevelId).ToArray() },
                    },
                },
                PostgresBatchTransaction.Commit(),
            },
        };
        await using var reader = await write.ExecuteReaderAsync(ct);
        await ReadAutoIdsAsync(reader, rows, ct);
    }

    private static NpgsqlBatchCommand InsertLedger(List<PointEntry> rows) => new(InsertLedgerSql)
    {
        Parameters =
        {
            new() { Value = rows.Select(r => r.MemberId).ToArray() },
            new() { Value = rows.Select(r => r.BusiType).ToArray() },
            new() { Value = rows.Select(r => r.BusiBillNum).ToArray() },
            new() { Value = rows.Select(r => r.ChangeValue).ToArray() },
            new() { Value = rows.Select(r => r.BalanceBefore).ToArray() },
            new() { Value = rows.Select(r => r.BalanceAfter).ToArray() },
            new() { Value = rows.Select(r => (short)r.LevelBefore).ToArray() },
            new() { Value = rows.Select(r => (short)r.LevelAfter).ToArray() },
            new() { Value = rows.Select(r => r.ChannelId).ToArray() },
            new() { Value = rows.Select(r => r.Actor).ToArray() },
            new() { Value = rows.Select(r => r.CreatedAt).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
            new() { Value = rows.Select(r => r.IdempotencyKey).ToArray() },
            new() { Value = rows.Select(r => r.RequestHash).ToArray() },
        },
    };

    /// <summary>
    /// Gives each ledger row its AutoId from the insert's result, where the reader stands, then reads
    /// the batch's later results: an error in any of them, the commit's included, throws here,
    /// before anyone is answered.
    /// </summary>
    private static async Task ReadAutoIdsAsync(NpgsqlDataReader reader, List<PointEntry> rows, CancellationToken ct)
    {
        // The identity is drawn row by row as the arrays are unnested, in their order; sorted, the ids line up with the rows.
        var ids = new List<long>(rows.Count);
        while (await reader.ReadAsync(ct))
            ids.Add(reader.GetInt64(0));
        while (await reader.NextResultAsync(ct))
        {
        }
        ids.Sort();
        for (var i = 0; i < rows.Count; i++)
            rows[i].AutoId = ids[i];
    }

    private static PointEntry ReadEntry(NpgsqlDataReader r) => new()
    {
        AutoId = r.GetInt64(0), MemberId = r.GetInt64(1), BusiType = r.GetString(2), BusiBillNum = r.GetString(3),
        ChangeValue = r.GetInt64(4), BalanceBefore = r.GetInt64(5), BalanceAfter = r.GetInt64(6),
        LevelBefore = (byte)r.GetInt16(7), LevelAfter = (byte)r.GetInt16(8), ChannelId = r.IsDBNull(9) ? null : r.GetInt32(9),
        Actor = r.GetString(10), CreatedAt = r.GetFieldValue<DateTimeOffset>(11),
        IdempotencyKey = r.IsDBNull(12) ? null : r.GetString(12), RequestHash = r.IsDBNull(13) ? null : r.GetString(13),
    };
}

/// <summary>
/// SQLite has one writer at a time and no round trips: one writer loop, whatever
/// <c>--GroupCommit:Writers</c> says, runs each batch as plain prepared statements inside one
/// IMMEDIATE transaction, and its one commit is the batch's one flush.
/// </summary>
public sealed class SqlitePointsWriter(SqliteConnectionStringBuilder connection, GroupCommitOptions options, ILogger<PointsWriter> log,
    TimeProvider clock) : PointsWriter(options.OneWriter(), log, clock)
{
    private static readonly DateTimeOffsetToBinaryConverter Instants = new();
    private readonly string _connection = connection.ToString();

    protected override async Task<Outcome<PointEntry>[]> CommitAsync(IReadOnlyList<PointChange> batch, CancellationToken ct)
    {
        await using var connection = new SqliteConnection(_connection);
        await connection.OpenAsync(ct);
        await using (var pragmas = connection.CreateCommand())
        {
            pragmas.CommandText = SqliteCheckpointer.ConnectionPragmas;
            await pragmas.ExecuteNonQueryAsync(ct);
        }
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct); // BEGIN IMMEDIATE: the write lock
        var state = await LoadAsync(connection, batch, ct);
        var plan = PointsBatch.Decide(batch, state, Now());
        await WriteAsync(connection, plan, ct);
        await tx.CommitAsync(ct);
        return plan.Outcomes;
    }

    private static async Task<PointsBatchState> LoadAsync(SqliteConnection connection, IReadOnlyList<PointChange> batch, CancellationToken ct)
    {
        var members = new Dictionary<long, PointsState>();
        await using (var member = Command(connection, "SELECT balance, lifetime_earned, level_id FROM members WHERE id = $id", "$id"))
            foreach (var id in MemberIds(batch))
            {
                member.Parameters[0].Value = id;
                await using var reader = await member.ExecuteReaderAsync(ct);
                if (await reader.ReadAsync(ct))
                    members[id] = new PointsState(reader.GetInt64(0), reader.GetInt64(1), reader.GetByte(2));
            }

        var earlier = new Dictionary<(int?, string), PointEntry>();
        await using (var find = Command(connection, """
            SELECT auto_id, member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before, level_after,
                channel_id, actor, created_at, idempotency_key, request_hash
            FROM point_ledger WHERE channel_id IS $channel AND idempotency_key = $key
            """, "$channel", "$key"))
            foreach (var change in batch.Where(c => c.IdempotencyKey is not null))
            {
                find.Parameters[0].Value = (object?)change.ChannelId ?? DBNull.Value;
                find.Parameters[1].Value = change.IdempotencyKey;
                await using var r = await find.ExecuteReaderAsync(ct);
                if (await r.ReadAsync(ct))
                    earlier[(change.ChannelId, change.IdempotencyKey!)] = new PointEntry
                    {
                        AutoId = r.GetInt64(0), MemberId = r.GetInt64(1), BusiType = r.GetString(2), BusiBillNum = r.GetString(3),
                        ChangeValue = r.GetInt64(4), BalanceBefore = r.GetInt64(5), BalanceAfter = r.GetInt64(6),
                        LevelBefore = r.GetByte(7), LevelAfter = r.GetByte(8), ChannelId = r.IsDBNull(9) ? null : r.GetInt32(9),
                        Actor = r.GetString(10), CreatedAt = (DateTimeOffset)Instants.ConvertFromProvider(r.GetInt64(11))!,
                        IdempotencyKey = r.GetString(12), RequestHash = r.IsDBNull(13) ? null : r.GetString(13),
                    };
            }

        var levels = new List<Level>();
        string? basis = null;
        await using (var read = Command(connection, "SELECT id, name, threshold FROM levels ORDER BY threshold"))
        await using (var r = await read.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct))
                levels.Add(new Level { Id = r.GetByte(0), Name = r.GetString(1), Threshold = r.GetInt64(2) });
        await using (var read = Command(connection, "SELECT value FROM settings WHERE key = $key", "$key"))
        {
            read.Parameters[0].Value = SettingKeys.LevelBasis;
            basis = await read.ExecuteScalarAsync(ct) as string;
        }
        return new PointsBatchState(members, earlier, new LevelTable(levels, LevelTable.ParseBasis(basis) ?? LevelBasis.Lifetime));
    }

    private static async Task WriteAsync(SqliteConnection connection, PointsBatchPlan plan, CancellationToken ct)
    {
        await using (var insert = Command(connection, """
            INSERT INTO point_ledger (member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before,
                level_after, channel_id, actor, created_at, idempotency_key, request_hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING auto_id
            """, "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13"))
            foreach (var e in plan.NewEntries)
            {
                object?[] values = [e.MemberId, e.BusiType, e.BusiBillNum, e.ChangeValue, e.BalanceBefore, e.BalanceAfter, e.LevelBefore,
                    e.LevelAfter, e.ChannelId, e.Actor, Instants.ConvertToProvider(e.CreatedAt), e.IdempotencyKey, e.RequestHash];
                for (var i = 0; i < values.Length; i++)
                    insert.Parameters[i].Value = values[i] ?? DBNull.Value;
                e.AutoId = (long)(await insert.ExecuteScalarAsync(ct))!;
            }

        await using var update = Command(connection,
            "UPDATE members SET balance = $balance, lifetime_earned = $lifetime, level_id = $level WHERE id = $id",
            "$balance", "$lifetime", "$level", "$id");
        foreach (var (id, state) in plan.Changed)
        {
            update.Parameters[0].Value = state.Balance;
            update.Parameters[1].Value = state.LifetimeEarned;
            update.Parameters[2].Value = state.LevelId;
            update.Parameters[3].Value = id;
            await update.ExecuteNonQueryAsync(ct);
        }
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        return command;
    }
}
