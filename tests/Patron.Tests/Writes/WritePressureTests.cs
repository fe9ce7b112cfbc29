using Microsoft.Extensions.DependencyInjection;
using Patron.Tests.Infrastructure;
using Patron.Writes;

namespace Patron.Tests.Writes;

/// <summary>
/// The writes back up when a writer, done with a batch, finds the next one already waiting. One
/// writer, whose batches hold their answers for 2 s: the second request is sent once the first
/// batch has committed, and a busy machine must not stretch that past the answer.
/// </summary>
public abstract class WritePressureTests(Backend backend) : PatronTest(backend)
{
    private static readonly TimeSpan Ever = TimeSpan.FromHours(1);

    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("GroupCommit:Writers", "1");
        builder.UseSetting("GroupCommit:AnswerDelayMilliseconds", "2000");
    }

    [Fact]
    public async Task AWriterThatFindsTheNextBatchWaitingMarksTheWritesBackedUp()
    {
        var pressure = App.Services.GetRequiredService<WritePressure>();
        Assert.Equal(0, (await Partner.AddPointsAsync(5, "P", 10, "alone", key: "alone")).Errcode);
        Assert.False(pressure.BackedUpWithin(Ever)); // one request at a time: nothing ever waited behind a batch

        var first = Partner.AddPointsAsync(5, "P", 1, "first", key: "first");
        await App.LedgerRowCommittedAsync("first"); // the first batch has committed and holds its answer
        Assert.False(first.IsCompleted);
        var second = Partner.AddPointsAsync(6, "P", 1, "second", key: "second");
        Assert.Equal([0, 0], (await Task.WhenAll(first, second)).Select(a => a.Errcode));
        Assert.True(pressure.BackedUpWithin(Ever));
        Assert.False(pressure.BackedUpWithin(TimeSpan.Zero));
    }
}

public sealed class WritePressureTestsOnSqlite() : WritePressureTests(Backend.Sqlite);

public sealed class WritePressureTestsOnPostgres() : WritePressureTests(Backend.Postgres);

/// <summary>Saturated: backed up, on a machine whose cores are taken; and how the machine's share is read.</summary>
public sealed class SaturationTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData(true, 0.8, true)]
    [InlineData(true, 0.5, false)]   // group commit backs up at an ordinary load: the cores decide
    [InlineData(true, null, false)]  // no /proc/stat: never yield, never fall behind
    [InlineData(false, 1.0, false)]  // a busy machine whose writes keep up
    public void TheWritesAreSaturatedOnlyWhenBackedUpOnABusyMachine(bool backedUp, double? busy, bool saturated)
    {
        var pressure = new WritePressure(() => busy);
        if (backedUp)
            pressure.BackedUp();
        Assert.Equal(saturated, pressure.Saturated(Window));
    }

    [Fact]
    public void ProcStatsFirstLineCountsIdleAndIowaitAsNotBusy()
    {
        Assert.Equal((60L, 100L), MachineCpu.Parse("cpu  30 5 25 30 10 0 0 0 0 0"));
        Assert.Null(MachineCpu.Parse("cpu0 30 5 25 30 10 0 0 0"));
        Assert.Null(MachineCpu.Parse("cpu  30 x 25 30"));
    }

    [Fact]
    public async Task TheShareIsOfTheTicksBetweenTwoReadsSpacedApart()
    {
        var path = Path.GetTempFileName();
        try
        {
            var cpu = new MachineCpu(path, TimeSpan.Zero);
            var soon = new MachineCpu(path, TimeSpan.FromHours(1));
            await File.WriteAllTextAsync(path, "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 1 1 1\n");
            Assert.Null(cpu.Busy()); // one read: nothing to compare
            Assert.Null(soon.Busy());
            await File.WriteAllTextAsync(path, "cpu  190 0 100 810 0 0 0 0 0 0\n");
            Assert.Equal(0.9, cpu.Busy()!.Value, 6);
            Assert.Null(soon.Busy()); // too soon: the last figure
            File.Delete(path);
            Assert.Null(cpu.Busy()); // unreadable now: unknown, not the last figure
        }
        finally
        {
            File.Delete(path);
        }
    }
}
