using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Patron.Cards;
using Patron.Data;
using Patron.Points;
using Patron.Points.Lots;
using Patron.Writes;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Writes;

/// <summary>
/// The write stores' statements are prepared and planned once per connection. A plan made
/// on a new, empty database must still find rows through an index: one that scans the table would
/// keep scanning it, at a cost that grows with every row. Nor may a plan read an array through a
/// function scan: it gathers the rows in a tuplestore, whose 16 KiB block, taken and given back once
/// a statement, made glibc grow and trim the backend's heap about once a batch. Nor may a plan be
/// compiled with JIT, which its executions would pay for each time.
/// </summary>
public sealed partial class WriterPlanTestsOnPostgres() : PatronTest(Backend.Postgres)
{
    protected override bool LedgerRowsHaveTheirEvents => false; // it fills tables behind the service's back

    /// <summary>Every statement the writers send: each <c>…Sql</c> constant of theirs.</summary>
    public static TheoryData<string, string> Statements()
    {
        var data = new TheoryData<string, string>();
        foreach (var type in new[] { typeof(PostgresPointsStore), typeof(PostgresCardUseStore), typeof(PostgresCardSaleStore), typeof(PostgresCardCancelStore),
            typeof(PostgresCardRefundStore), typeof(PostgresLots), typeof(AuditRows), typeof(SettingKeys) })
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
                if (field is { IsLiteral: true, Name: var name } && name.EndsWith("Sql", StringComparison.Ordinal))
                    data.Add($"{type.Name}.{name}", (string)field.GetRawConstantValue()!);
        return data;
    }

    [Fact]
    public void TheStatementsAreFound() => Assert.True(Statements().Count() >= 25, $"{Statements().Count()} writer statements found");

    [Fact]
    public async Task WriterConnectionsPrepareAndPlanOnce()
    {
        await using var connection = await WriterConnectionAsync();
        Assert.Equal("force_generic_plan", await ShowAsync(connection, "plan_cache_mode"));
        Assert.Equal("off", await ShowAsync(connection, "enable_seqscan"));
        Assert.Equal("off", await ShowAsync(connection, "jit"));
        Assert.True(new NpgsqlConnectionStringBuilder(connection.ConnectionString).MaxAutoPrepare > 0);
    }

    [Theory]
    [MemberData(nameof(Statements))]
    public async Task AGenericPlanMadeOnEmptyTablesScansNone(string statement, string sql)
    {
        await using var connection = await WriterConnectionAsync();
        // The planner's worst case: statistics that say every table the writers touch is empty.
        await PlanProbe.ExecuteAsync(connection, "VACUUM ANALYZE");

        var parameters = Parameter().Matches(sql).Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(0).Max();
        await PlanProbe.ExecuteAsync(connection, $"PREPARE probe AS {sql}");
        var arguments = parameters == 0 ? "" : $"({string.Join(", ", Enumerable.Repeat("NULL", parameters))})";
        var plan = await PlanProbe.LinesAsync(connection, $"EXPLAIN EXECUTE probe{arguments}");

        // The level table is the one read whole: a handful of rows, whatever the chain's size.
        var text = string.Join('\n', plan).Replace("Seq Scan on levels", "", StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Function Scan", text, StringComparison.Ordinal);
        Assert.DoesNotContain("JIT", text, StringComparison.Ordinal);
        Assert.True(plan.Count > 0, $"{statement}: no plan");
        Assert.All(IndexScansWithoutCondition(plan), scan => Assert.Fail($"{statement} reads a whole index: {scan}\n{string.Join('\n', plan)}"));
    }

    /// <summary>
    /// The idempotency lookups, planned while their tables were empty, find a key through the index
    /// in a few pages once the table holds thousands of rows of the same channel. A lookup whose
    /// index condition bound only the channel (the unique index's first column) passed the rule
    /// above, and read every row of the channel at every batch (`bench/results/trials-2026-12-02a.md`).
    /// </summary>
    [Theory]
    [InlineData(nameof(PostgresPointsStore), nameof(PostgresPointsStore.EarlierKeysSql), "point_ledger", """
        INSERT INTO point_ledger (member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before,
            level_after, channel_id, actor, created_at, idempotency_key, request_hash)
        SELECT 1, 'A', 'bill', 1, 0, 1, 1, 1, 7, 'test', now(), 'key' || g, 'hash' FROM generate_series(1, 20000) AS g
        """)]
    [InlineData(nameof(PostgresPointsStore), nameof(PostgresPointsStore.EarlierOperatorKeysSql), "point_ledger", """
        INSERT INTO point_ledger (member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after, level_before,
            level_after, channel_id, actor, created_at, idempotency_key, request_hash)
        SELECT 1, 'A', 'bill', 1, 0, 1, 1, 1, NULL, '7', now(), 'key' || g, 'hash' FROM generate_series(1, 20000) AS g
        """)]
    [InlineData(nameof(PostgresCardUseStore), nameof(PostgresCardUseStore.EarlierUsesSql), "card_uses", """
        INSERT INTO card_uses (channel_id, use_no, usage_entry_id, member_card_id, posid, use_time, cycle, created_at, request_hash, result_json)
        SELECT 7, 'key' || g, 'entry', 'card', 'pos', 0, 0, 0, 'hash', '{}' FROM generate_series(1, 20000) AS g
        """)]
    [InlineData(nameof(PostgresCardSaleStore), nameof(PostgresCardSaleStore.EarlierSalesSql), "card_sales", """
        INSERT INTO card_sales (channel_id, channel_name, sale_no, card_info_id, member_id, member_code, num, pay_amt, sale_time,
            create_time, status, request_hash, result_json)
        SELECT 7, 'channel', 'key' || g, 'card', 1, 'member', 1, 0, 0, 0, 0, 'hash', '{}' FROM generate_series(1, 20000) AS g
        """)]
    public async Task AKeyLookupPlannedOnAnEmptyTableReadsAFewPagesOnceItHasGrown(string writer, string statement, string table, string fill)
    {
        var sql = Statements().Single(s => (string)s[0] == $"{writer}.{statement}")[1] as string;
        await using var connection = await WriterConnectionAsync();
        // No analyze may come between the plan and its run: it would make the plan again.
        await PlanProbe.ExecuteAsync(connection, $"ALTER TABLE {table} SET (autovacuum_enabled = false)");
        await PlanProbe.ExecuteAsync(connection, $"VACUUM ANALYZE {table}");
        await PlanProbe.ExecuteAsync(connection, $"PREPARE probe AS {sql}");
        // The first run makes the plan, on the empty table; the size a plan sees is the table's at that moment.
        const string probe = "EXECUTE probe('{7,7,7}', '{key5,key17000,none}')";
        await PlanProbe.ExecuteAsync(connection, probe);
        await PlanProbe.ExecuteAsync(connection, fill);

        var plan = await PlanProbe.LinesAsync(connection, $"EXPLAIN (ANALYZE, BUFFERS) {probe}");

        Assert.Matches(@"\(actual time=[0-9.]+ rows=2 loops=1\)", plan[0]);
        var pages = PlanProbe.SharedPages(plan);
        Assert.True(pages <= 30, $"{statement} read {pages} pages for three keys:\n{string.Join('\n', plan)}");
    }

    /// <summary>The plan's index scans that name no Index Cond: they read the whole index, as a table scan would the table.</summary>
    private static IEnumerable<string> IndexScansWithoutCondition(List<string> plan)
    {
        for (var i = 0; i < plan.Count; i++)
        {
            if (!plan[i].Contains("Index Scan", StringComparison.Ordinal) && !plan[i].Contains("Index Only Scan", StringComparison.Ordinal))
                continue;
            var depth = plan[i].Length - plan[i].TrimStart().Length;
            // The node's own lines follow it, deeper than it, until its first child ("->") or its next sibling.
            var own = plan.Skip(i + 1).TakeWhile(l => l.Length - l.TrimStart().Length > depth && !l.TrimStart().StartsWith("->", StringComparison.Ordinal));
            if (!own.Any(l => l.TrimStart().StartsWith("Index Cond:", StringComparison.Ordinal)))
                yield return plan[i].Trim();
        }
    }

    private async Task<NpgsqlConnection> WriterConnectionAsync() =>
        (NpgsqlConnection)await App.Services.GetRequiredService<WriterConnections>().OpenAsync(CancellationToken.None);

    private static async Task<string> ShowAsync(NpgsqlConnection connection, string setting)
    {
        await using var show = new NpgsqlCommand($"SHOW {setting}", connection);
        return (string)(await show.ExecuteScalarAsync())!;
    }

    [GeneratedRegex(@"\$(\d+)")]
    private static partial Regex Parameter();
}
