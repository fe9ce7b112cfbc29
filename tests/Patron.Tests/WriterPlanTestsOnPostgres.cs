using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Patron.Cards;
using Patron.Data;
using Patron.Points;
using Patron.Tests.Infrastructure;

namespace Patron.Tests;

/// <summary>
/// The group-commit writers' statements are prepared and planned once per connection. A plan made
/// on a new, empty database must still find rows through an index: one that scans the table would
/// keep scanning it, at a cost that grows with every row. Nor may a plan read an array through a
/// function scan: it gathers the rows in a tuplestore, whose 16 KiB block, taken and given back once
/// a statement, made glibc grow and trim the backend's heap about once a batch. Nor may a plan be
/// compiled with JIT, which its executions would pay for each time.
/// </summary>
public sealed partial class WriterPlanTestsOnPostgres() : PatronTest(Backend.Postgres)
{
    /// <summary>Every statement the writers send: each <c>…Sql</c> constant of theirs.</summary>
    public static TheoryData<string, string> Statements()
    {
        var data = new TheoryData<string, string>();
        foreach (var type in new[] { typeof(PostgresPointsWriter), typeof(PostgresCardUseWriter), typeof(PostgresCardSaleWriter), typeof(SettingKeys) })
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
                if (field is { IsLiteral: true, Name: var name } && name.EndsWith("Sql", StringComparison.Ordinal))
                    data.Add($"{type.Name}.{name}", (string)field.GetRawConstantValue()!);
        return data;
    }

    [Fact]
    public void TheStatementsAreFound() => Assert.True(Statements().Count() >= 16, $"{Statements().Count()} writer statements found");

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
        await using (var vacuum = new NpgsqlCommand("VACUUM ANALYZE", connection))
            await vacuum.ExecuteNonQueryAsync();

        var parameters = Parameter().Matches(sql).Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(0).Max();
        await using (var prepare = new NpgsqlCommand($"PREPARE probe AS {sql}", connection))
            await prepare.ExecuteNonQueryAsync();
        var arguments = parameters == 0 ? "" : $"({string.Join(", ", Enumerable.Repeat("NULL", parameters))})";
        await using var explain = new NpgsqlCommand($"EXPLAIN EXECUTE probe{arguments}", connection);
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                plan.Add(reader.GetString(0));

        // The level table is the one read whole: a handful of rows, whatever the chain's size.
        var text = string.Join('\n', plan).Replace("Seq Scan on levels", "", StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Function Scan", text, StringComparison.Ordinal);
        Assert.DoesNotContain("JIT", text, StringComparison.Ordinal);
        Assert.True(plan.Count > 0, $"{statement}: no plan");
        Assert.All(IndexScansWithoutCondition(plan), scan => Assert.Fail($"{statement} reads a whole index: {scan}\n{string.Join('\n', plan)}"));
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
        await App.Services.GetRequiredKeyedService<NpgsqlDataSource>(WriterConnections.Key).OpenConnectionAsync();

    private static async Task<string> ShowAsync(NpgsqlConnection connection, string setting)
    {
        await using var show = new NpgsqlCommand($"SHOW {setting}", connection);
        return (string)(await show.ExecuteScalarAsync())!;
    }

    [GeneratedRegex(@"\$(\d+)")]
    private static partial Regex Parameter();
}
