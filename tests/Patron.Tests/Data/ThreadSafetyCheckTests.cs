using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Patron.Data;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Data;

/// <summary>
/// EF's check that one context is not used by two operations at once costs every row a query reads
/// an allocation: the service leaves it out in production, and keeps it wherever bugs are looked for.
/// </summary>
public sealed class ThreadSafetyCheckTests() : PatronTest(Backend.Sqlite)
{
    private string? _environment;

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        if (_environment is { } name)
            builder.UseEnvironment(name);
    }

    [Theory]
    [InlineData("Production", false)]
    [InlineData("Development", true)]
    [InlineData("Staging", true)]
    public async Task TheCheckIsLeftOutInProductionOnly(string environment, bool checks)
    {
        _environment = environment;
        var app = StartApp();

        Assert.Equal(checks, await ChecksAsync(app));
        Assert.True(await ChecksAsync(App)); // the tests' own hosts keep it
    }

    /// <summary>Whether a request scope's context, from the host's pool, has the check.</summary>
    private static async Task<bool> ChecksAsync(PatronApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        return db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()!.ThreadSafetyChecksEnabled;
    }
}
