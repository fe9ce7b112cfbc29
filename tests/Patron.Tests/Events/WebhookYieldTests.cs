using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;
using Patron.Writes;

namespace Patron.Tests.Events;

/// <summary>
/// The writes come first: while they are saturated, a pass that claimed a full batch does not go
/// straight on to the next but waits the poll interval, and makes no new deliveries; the sending
/// goes on at full speed once a poll interval has passed without. The machine counts as busy here.
/// </summary>
public abstract class WebhookYieldTests(Backend backend) : WebhookTestBase(backend)
{
    private const int PollMilliseconds = 300;

    protected override int Parallel => 2; // a pass claims 8

    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureHost(builder);
        builder.UseSetting("Webhooks:PollMilliseconds", PollMilliseconds.ToString());
        builder.ConfigureServices(s => s.Replace(ServiceDescriptor.Singleton(new WritePressure(() => 1.0))));
    }

    [Fact]
    public async Task WhileTheWritesAreSaturatedAPassWithAFullClaimWaitsForTheNext()
    {
        var dispatcher = App.Services.GetRequiredService<WebhookDispatcher>();
        for (var member = 11; member <= 40; member++)
            await AddPointsAsync(member, 10, $"Y-{member}");

        Assert.True(await dispatcher.PassAsync(CancellationToken.None)); // a full claim, the writes idle: the next at once
        App.Services.GetRequiredService<WritePressure>().BackedUp();
        Assert.False(await dispatcher.PassAsync(CancellationToken.None)); // a full claim, but the writes saturated
        Assert.Equal(16, Receiver.At("/crm").Count);

        await Task.Delay(PollMilliseconds + 100);
        Assert.True(await dispatcher.PassAsync(CancellationToken.None));
        Assert.Equal(24, Receiver.At("/crm").Count);
    }

    [Fact]
    public async Task WhileTheWritesAreSaturatedAPassMakesNoNewDeliveries()
    {
        var dispatcher = App.Services.GetRequiredService<WebhookDispatcher>();
        await AddPointsAsync(11, 10, "Z-1");
        Assert.Equal(1, await dispatcher.RunOnceAsync(CancellationToken.None)); // the last claim was short
        await AddPointsAsync(12, 10, "Z-2");
        var made = await MadeAsync();

        App.Services.GetRequiredService<WritePressure>().BackedUp();
        Assert.False(await dispatcher.PassAsync(CancellationToken.None));
        // SQLite's trigger made Z-2's delivery with its event, and it is sent; PostgreSQL's fan-out waits for the peak to pass.
        Assert.Equal(made, await MadeAsync());
        Assert.Equal(Backend == Backend.Postgres ? 1 : 2, Receiver.At("/crm").Count);

        await Task.Delay(PollMilliseconds + 100);
        await dispatcher.PassAsync(CancellationToken.None);
        Assert.Equal(2, Receiver.At("/crm").Count);
    }

    private Task<int> MadeAsync() => App.QueryAsync(db => db.Set<WebhookDelivery>().CountAsync());
}

public sealed class WebhookYieldTestsOnSqlite() : WebhookYieldTests(Backend.Sqlite);

public sealed class WebhookYieldTestsOnPostgres() : WebhookYieldTests(Backend.Postgres);
