using System.Text.RegularExpressions;
using Npgsql;

namespace Patron.Tests.Infrastructure;

/// <summary>What the plan tests send PostgreSQL and read back from its EXPLAIN.</summary>
public static partial class PlanProbe
{
    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The text lines a statement returns, such as an EXPLAIN's, with its parameters bound in order.</summary>
    public static async Task<List<string>> LinesAsync(NpgsqlConnection connection, string sql, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync())
            lines.Add(reader.GetString(0));
        return lines;
    }

    /// <summary>The shared pages found in memory and read, on the plan's first Buffers line: the top node's, which counts its children's.</summary>
    public static int SharedPages(IEnumerable<string> plan) =>
        SharedPagesLine().Match(string.Join('\n', plan)).Groups.Values.Skip(1).Where(g => g.Success).Sum(g => int.Parse(g.Value));

    [GeneratedRegex(@"Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?")]
    private static partial Regex SharedPagesLine();
}
