using System.Net.Http.Headers;
using Npgsql;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Operators;

/// <summary>
/// The sales export streams: 100,000 sales cost the service far less memory than holding them.
/// Measured on the service as a process of its own, by the peak of its resident memory (VmHWM),
/// which no collection can hide and nothing in the test process can add to. On PostgreSQL only:
/// its driver is the one that could buffer a whole result, and one backend keeps the run short.
/// </summary>
public sealed class SalesExportMemoryTestsOnPostgres : IAsyncLifetime
{
    private const int Sales = 100_000;
    private const long AllowedGrowth = 100L * 1024 * 1024;

    private PatronProcess _service = null!;
    private string _connection = "";

    public async Task InitializeAsync()
    {
        _connection = await Backend.Postgres.NewDatabaseAsync();
        _service = new PatronProcess("postgres", _connection, TestCatalog.Write(TestCatalog.Build()));
        await _service.StartAsync();
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task ExportingAHundredThousandSalesAddsLessThan100MegabytesToTheServicesPeakMemory()
    {
        await SeedAsync(100, "warm-up");
        await SeedAsync(Sales, new string('R', 64));
        using var http = new HttpClient { BaseAddress = _service.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestCatalog.AdminToken);
        // Every code path runs once before the measure, so that what grows after it is the export's own.
        Assert.Equal(101, await ExportLinesAsync(http, "/api/v1/sales.csv?restaurant=warm-up"));

        var before = PeakResidentBytes();
        var lines = await ExportLinesAsync(http, "/api/v1/sales.csv");
        var growth = PeakResidentBytes() - before;

        Assert.Equal(1 + 100 + Sales, lines);
        Assert.True(growth < AllowedGrowth, $"the export raised the service's peak memory by {growth / (1024 * 1024)} MB");
    }

    /// <summary>Reads the export as it comes, keeping nothing: the client must not be what holds the rows.</summary>
    private static async Task<int> ExportLinesAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var lines = 0;
        while (await reader.ReadLineAsync() is not null)
            lines++;
        return lines;
    }

    private long PeakResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_service.ProcessId}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]) * 1024;
    }

    /// <summary>Sales as wide as the columns allow, written straight to the table: the export, not the sale path, is under test.</summary>
    private async Task SeedAsync(int count, string restaurant)
    {
        await using var connection = new NpgsqlConnection(_connection);
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand("""
            INSERT INTO card_sales (channel_id, channel_name, sale_no, card_info_id, member_id, member_code, num, pay_amt, sale_time,
                sale_user, sale_org_code, create_time, status, request_hash, result_json)
            SELECT c.id, c.name, $1 || '-' || lpad(g::text, 40, '0'), $2, 1, 'M0001', 1, 11.22,
                (extract(epoch FROM now()) * 1000)::bigint - g, repeat('u', 64), $3, 0, 0, repeat('h', 64), '{}'
            FROM generate_series(1, $4) AS g, channels AS c WHERE c.name = 'hkl-test'
            """, connection);
        insert.Parameters.Add(new() { Value = restaurant[..Math.Min(restaurant.Length, 16)] });
        insert.Parameters.Add(new() { Value = TestCatalog.Card });
        insert.Parameters.Add(new() { Value = restaurant });
        insert.Parameters.Add(new() { Value = count });
        Assert.Equal(count, await insert.ExecuteNonQueryAsync());
    }
}
