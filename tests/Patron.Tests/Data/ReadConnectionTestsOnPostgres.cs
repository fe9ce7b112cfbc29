using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Data;

/// <summary>
/// The reads' pool keeps a connection's session when it goes back: a statement read often is
/// prepared once and found prepared the next time the connection is taken, where a reset on
/// return (DISCARD ALL) dropped it, and each read was parsed and planned again.
/// </summary>
public sealed class ReadConnectionTestsOnPostgres() : PatronTest(Backend.Postgres)
{
    [Fact]
    public async Task AConnectionComesBackWithTheStatementsItPrepared()
    {
        var source = App.Services.GetRequiredService<NpgsqlDataSource>();
        const string read = "SELECT count(*) FROM members WHERE id = $1";
        int backend;
        await using (var connection = await source.OpenConnectionAsync())
        {
            backend = connection.ProcessID;
            for (var i = 0; i < 6; i++) // Npgsql prepares a statement on its fifth use
            {
                await using var command = new NpgsqlCommand(read, connection) { Parameters = { new() { Value = 1L } } };
                await command.ExecuteScalarAsync();
            }
        }

        // Take the pool's idle connections, holding each, until the one used above comes back.
        var taken = new List<NpgsqlConnection>();
        try
        {
            while (taken.Count < 50 && (taken.Count == 0 || taken[^1].ProcessID != backend))
                taken.Add(await source.OpenConnectionAsync());
            Assert.Equal(backend, taken[^1].ProcessID);
            await AssertPreparedAsync(taken[^1], read);
        }
        finally
        {
            foreach (var connection in taken)
                await connection.DisposeAsync();
        }
    }

    private static async Task AssertPreparedAsync(NpgsqlConnection again, string read)
    {
        await using var prepared = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", again)
        {
            Parameters = { new() { Value = read } },
        };
        Assert.Equal(1L, await prepared.ExecuteScalarAsync());
    }
}
