using Microsoft.Extensions.DependencyInjection;
using Patron.Tests.Infrastructure;
using Patron.Writes;

namespace Patron.Tests.Writes;

/// <summary>
/// The writes back up when a writer, done with a batch, finds the next one already waiting: what
/// the webhook dispatcher yields to. One writer, whose batches hold their answers for 400 ms.
/// </summary>
public abstract class WritePressureTests(Backend backend) : PatronTest(backend)
{
    private static readonly TimeSpan Ever = TimeSpan.FromHours(1);

    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("GroupCommit:Writers", "1");
        builder.UseSetting("GroupCommit:AnswerDelayMilliseconds", "400");
    }

    [Fact]
    public async Task AWriterThatFindsTheNextBatchWaitingMarksTheWritesBackedUp()
    {
        var pressure = App.Services.GetRequiredService<WritePressure>();
        Assert.Equal(0, (await Partner.AddPointsAsync(5, "P", 10, "alone", key: "alone")).Errcode);
        Assert.False(pressure.Within(Ever)); // one request at a time: nothing ever waited behind a batch

        var first = Partner.AddPointsAsync(5, "P", 1, "first", key: "first");
        await Task.Delay(150); // the first batch has committed and holds its answer
        var second = Partner.AddPointsAsync(6, "P", 1, "second", key: "second");
        Assert.Equal([0, 0], (await Task.WhenAll(first, second)).Select(a => a.Errcode));
        Assert.True(pressure.Within(Ever));
        Assert.False(pressure.Within(TimeSpan.Zero));
    }
}

public sealed class WritePressureTestsOnSqlite() : WritePressureTests(Backend.Sqlite);

public sealed class WritePressureTestsOnPostgres() : WritePressureTests(Backend.Postgres);
