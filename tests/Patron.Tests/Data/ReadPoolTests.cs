using Npgsql;
using Patron.Data;

namespace Patron.Tests.Data;

/// <summary>The size of the pool EF and the background jobs share on PostgreSQL (<see cref="DataSetup.ReadConnections"/>).</summary>
public sealed class ReadPoolTests
{
    private static int PoolSize(string connection)
    {
        using var source = DataSetup.ReadConnections(connection);
        return new NpgsqlConnectionStringBuilder(source.ConnectionString).MaxPoolSize;
    }

    [Fact]
    public void WithoutASizeInTheConnectionStringThePoolKeepsToAFewConnections() =>
        Assert.Equal(DataSetup.ReadPoolSize, PoolSize("Host=127.0.0.1;Database=patron;Username=patron"));

    [Theory]
    [InlineData("Maximum Pool Size=30")]
    [InlineData("MaxPoolSize=30")]
    public void ASizeTheConnectionStringGivesIsKept(string size) =>
        Assert.Equal(30, PoolSize($"Host=127.0.0.1;Database=patron;Username=patron;{size}"));
}
