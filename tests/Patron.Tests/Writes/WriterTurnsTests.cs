using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Patron.Cards;
using Patron.Points;
using Patron.Tests.Infrastructure;
using Patron.Writes;

namespace Patron.Tests.Writes;

/// <summary>When a writer loop may start a batch beside one in flight (<see cref="WriterTurns"/>).</summary>
public sealed class WriterTurnsTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AWriterAloneStartsAtOnceWhateverWaits()
    {
        var turns = new WriterTurns(16);
        Assert.True(await turns.StartOrParkAsync(1));
        turns.Done();
        Assert.True(await turns.StartOrParkAsync(1));
    }

    [Fact]
    public async Task BesideABatchInFlightAWriterParksUntilEnoughRequestsWait()
    {
        var turns = new WriterTurns(16);
        Assert.True(await turns.StartOrParkAsync(1));
        var second = turns.StartOrParkAsync(3).AsTask();
        Assert.Equal(1, turns.Parked);
        turns.Queued(15);
        await Task.Delay(100);
        Assert.False(second.IsCompleted);
        turns.Queued(16);
        Assert.False(await second.WaitAsync(Soon)); // woken: it looks at the queue again
        Assert.Equal(0, turns.Parked);
        Assert.True(await turns.StartOrParkAsync(16));
    }

    [Fact]
    public async Task AParkedWriterLooksAgainWhenTheBatchInFlightIsDone()
    {
        var turns = new WriterTurns(16);
        Assert.True(await turns.StartOrParkAsync(1));
        var second = turns.StartOrParkAsync(2).AsTask();
        await Task.Delay(100);
        Assert.False(second.IsCompleted);
        turns.Done();
        Assert.False(await second.WaitAsync(Soon));
        Assert.True(await turns.StartOrParkAsync(2)); // none in flight now
    }

    [Fact]
    public async Task AClosingQueueWakesItsParkedWritersAndParksNoneAgain()
    {
        var turns = new WriterTurns(16);
        Assert.True(await turns.StartOrParkAsync(1));
        var second = turns.StartOrParkAsync(1).AsTask();
        turns.Close(2);
        Assert.False(await second.WaitAsync(Soon));
        Assert.True(await turns.StartOrParkAsync(1)); // to drain what is left, beside the batch in flight
    }

    [Fact]
    public async Task OverlapAtOneLetsEveryWriterStartAtOnce()
    {
        var turns = new WriterTurns(1);
        Assert.True(await turns.StartOrParkAsync(1));
        Assert.True(await turns.StartOrParkAsync(1));
        Assert.Equal(0, turns.Parked);
    }
}

/// <summary>
/// The rule through the service: two writers, a second batch beside one in flight only once three
/// requests wait. Each batch holds its answers for 4 s after its commit, so the first stays in
/// flight while the test looks.
/// </summary>
public sealed class WriterOverlapTestsOnPostgres() : PatronTest(Backend.Postgres)
{
    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("GroupCommit:Writers", "2");
        builder.UseSetting("GroupCommit:OverlapAt", "3");
        builder.UseSetting("GroupCommit:AnswerDelayMilliseconds", "4000");
    }

    [Fact]
    public async Task ASecondBatchStartsBesideOneInFlightOnlyOnceEnoughRequestsWait()
    {
        var first = Partner.AddPointsAsync(5, "P", 1, "first", key: "first");
        await App.LedgerRowCommittedAsync("first");
        var waiting = new[] { Partner.AddPointsAsync(6, "P", 1, "second", key: "second"), Partner.AddPointsAsync(7, "P", 1, "third", key: "third") };
        await Task.Delay(500);
        Assert.False(await App.HasLedgerRowAsync("second") || await App.HasLedgerRowAsync("third")); // two wait: the other writer stays parked

        var last = Partner.AddPointsAsync(8, "P", 1, "fourth", key: "fourth");
        var sent = Stopwatch.StartNew();
        await App.LedgerRowCommittedAsync("fourth");
        Assert.True(await App.HasLedgerRowAsync("second") && await App.HasLedgerRowAsync("third")); // the three in one batch
        // Beside the first, whose answer is held for more than 3 s yet. Queued behind it, the three
        // would commit only after that; the first's task alone cannot tell, as its answer arrives late.
        Assert.True(sent.Elapsed < TimeSpan.FromSeconds(2), $"the three committed {sent.Elapsed} after the fourth was sent");
        Assert.False(first.IsCompleted);
        Assert.All(await Task.WhenAll([first, .. waiting, last]), a => Assert.Equal(0, a.Errcode));
    }

    [Fact]
    public void TheSettingNamesTheOverlapOfEveryKind() =>
        Assert.Equal([3, 3, 3], Overlaps(App.Services));

    /// <summary>Points adds', card uses' and card sales' queues' <see cref="WriteQueue{TRequest,TState,TPlan,TResult}.OverlapAt"/>.</summary>
    internal static int[] Overlaps(IServiceProvider services) =>
        [services.GetRequiredService<PointsWrites>().OverlapAt, services.GetRequiredService<CardUseWrites>().OverlapAt,
            services.GetRequiredService<CardSaleWrites>().OverlapAt];
}

/// <summary>Unset, each kind of write has its own: card uses and sales start a second batch sooner than points adds.</summary>
public sealed class WriterOverlapDefaultTests() : PatronTest(Backend.Postgres)
{
    [Fact]
    public void CardWritesOverlapSoonerThanPointsAdds() => Assert.Equal([16, 8, 8], WriterOverlapTestsOnPostgres.Overlaps(App.Services));
}
