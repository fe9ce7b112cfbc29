using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Patron.Data;

namespace Patron.Tests.Infrastructure;

/// <summary>One Patron host over a real database, exactly as Program.cs builds it; its clock is <see cref="TestWorld"/>'s unless given.</summary>
public sealed class PatronApp(string storage, string connection, string? catalogPath, TimeProvider? clock = null,
    Action<IWebHostBuilder>? configure = null)
    : WebApplicationFactory<Program>
{
    public string Storage => storage;
    public string Connection => connection;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("storage", storage);
        builder.UseSetting("connection", connection);
        if (catalogPath is not null)
            builder.UseSetting("catalog", catalogPath);
        // Tests move their clocks by months and years; the outbox's events must outlive that for the checks every test ends with.
        builder.UseSetting("Webhooks:KeepDays", "36500");
        builder.ConfigureServices(s => s.Replace(ServiceDescriptor.Singleton(clock ?? TestWorld.Clock)));
        // Every test applies a catalog with two passwords; full-strength PBKDF2 would spend most of
        // the suite's time hashing. The hash format records its iteration count, so nothing else changes.
        builder.ConfigureServices(s => s.Configure<Microsoft.AspNetCore.Identity.PasswordHasherOptions>(o => o.IterationCount = 1_000));
        configure?.Invoke(builder);
    }

    /// <summary>
    /// Starts the host on Kestrel at http://127.0.0.1 on a free port, for clients outside the
    /// process such as a browser, and returns its base URL. Call it instead of touching
    /// <c>Server</c>: the in-memory TestServer is then not there.
    /// </summary>
    public Uri StartKestrel()
    {
        UseKestrel(port: 0);
        StartServer();
        return ClientOptions.BaseAddress;
    }

    /// <summary>A scope onto the app's own DbContext, for checking what was stored.</summary>
    public async Task<T> QueryAsync<T>(Func<PatronDb, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<PatronDb>());
    }

    /// <summary>Whether a ledger row of this bill number is committed.</summary>
    public Task<bool> HasLedgerRowAsync(string billNum) =>
        QueryAsync(db => db.PointEntries.AnyAsync(p => p.BusiBillNum == billNum));

    /// <summary>Waits until a ledger row of this bill number is committed, and fails after 30 s.</summary>
    public async Task LedgerRowCommittedAsync(string billNum)
    {
        for (var waited = 0; !await HasLedgerRowAsync(billNum); waited += 10)
        {
            Xunit.Assert.True(waited < 30_000, $"{billNum} never committed");
            await Task.Delay(10);
        }
    }
}
