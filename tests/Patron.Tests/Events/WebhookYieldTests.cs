using Microsoft.Extensions.DependencyInjection;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;
using Patron.Writes;

namespace Patron.Tests.Events;

/// <summary>
/// The writes come first: while they back up, a pass that claimed a full batch does not go straight
/// on to the next but waits the poll interval, and the sending goes on at full speed once a poll
/// interval has passed without the writes backing up.
/// </summary>
public abstract class WebhookYieldTests(Backend backend) : WebhookTestBase(backend)
{
    private const int PollMilliseconds = 300;

    protected override int Parallel => 2; // a pass claims 8

    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureHost(builder);
        builder.UseSetting("Webhooks:PollMilliseconds", PollMilliseconds.ToString());
    }

    [Fact]
    public async Task WhileTheWritesBackUpAPassWithAFullClaimWaitsForTheNext()
    {
        var dispatcher = App.Services.GetRequiredService<WebhookDispatcher>();
        for (var member = 11; member <= 40; member++)
            await AddPointsAsync(member, 10, $"Y-{member}");

        Assert.True(await dispatcher.PassAsync(CancellationToken.None)); // a full claim, the writes idle: the next at once
        App.Services.GetRequiredService<WritePressure>().BackedUp();
        Assert.False(await dispatcher.PassAsync(CancellationToken.None)); // a full claim, but the writes backed up
        Assert.Equal(16, Receiver.At("/crm").Count);

        await Task.Delay(PollMilliseconds + 100);
        Assert.True(await dispatcher.PassAsync(CancellationToken.None));
        Assert.Equal(24, Receiver.At("/crm").Count);
    }
}

public sealed class WebhookYieldTestsOnSqlite() : WebhookYieldTests(Backend.Sqlite);

public sealed class WebhookYieldTestsOnPostgres() : WebhookYieldTests(Backend.Postgres);
