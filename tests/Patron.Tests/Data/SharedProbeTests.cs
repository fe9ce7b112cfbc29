using Patron.Data;

namespace Patron.Tests.Data;

/// <summary>
/// /health's shared database probe (<see cref="SharedProbe"/>): callers share a probe, yet none
/// takes the answer of one already under way when it called.
/// </summary>
public sealed class SharedProbeTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    /// <summary>Probes the test ends one at a time, in the order they began.</summary>
    private sealed class Probes
    {
        private readonly Queue<TaskCompletionSource> _begun = new();

        public int Begun { get; private set; }

        public Task Next()
        {
            var probe = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_begun)
            {
                _begun.Enqueue(probe);
                Begun++;
            }
            return probe.Task;
        }

        private int _ended;

        /// <summary>Ends the earliest probe not yet ended, once it has begun (probes begin on a thread of their own).</summary>
        public async Task EndAsync(Exception? failure = null)
        {
            await WaitBegunAsync(++_ended);
            TaskCompletionSource probe;
            lock (_begun)
                probe = _begun.Dequeue();
            if (failure is null)
                probe.SetResult();
            else
                probe.SetException(failure);
        }

        /// <summary>Waits until at least <paramref name="count"/> probes have begun, and asserts that no more have.</summary>
        public async Task WaitBegunAsync(int count)
        {
            for (var waited = 0; Begun < count && waited < 10_000; waited += 10)
                await Task.Delay(10);
            Assert.Equal(count, Begun);
        }
    }

    [Fact]
    public async Task CallersWhoComeWhileAProbeRunsShareTheNextOne()
    {
        var probes = new Probes();
        var shared = new SharedProbe(probes.Next);

        var first = shared.RunAsync(CancellationToken.None);
        var later = Enumerable.Range(0, 50).Select(_ => shared.RunAsync(CancellationToken.None)).ToList();
        await probes.WaitBegunAsync(1);

        await probes.EndAsync();
        await first.WaitAsync(Soon);
        await probes.WaitBegunAsync(2);
        Assert.All(later, t => Assert.False(t.IsCompleted));
        await probes.EndAsync();
        await Task.WhenAll(later).WaitAsync(Soon);
        await Task.Delay(50);
        Assert.Equal(2, probes.Begun);
    }

    /// <summary>
    /// The database failed between the first probe's start and a later caller: the first probe's
    /// success is not the later caller's answer, as it would not be with a probe of its own.
    /// </summary>
    [Fact]
    public async Task ACallerNeverTakesTheAnswerOfAProbeBegunBeforeItCame()
    {
        var probes = new Probes();
        var shared = new SharedProbe(probes.Next);
        var first = shared.RunAsync(CancellationToken.None);
        var later = shared.RunAsync(CancellationToken.None);

        await probes.EndAsync();
        await first.WaitAsync(Soon);
        await probes.EndAsync(new TimeoutException("the database stopped answering"));

        await Assert.ThrowsAsync<TimeoutException>(() => later.WaitAsync(Soon));
    }

    [Fact]
    public async Task AFailureAnswersOnlyItsOwnCallersAndTheNextCallerProbesAgain()
    {
        var probes = new Probes();
        var shared = new SharedProbe(probes.Next);
        var failing = shared.RunAsync(CancellationToken.None);
        await probes.EndAsync(new InvalidOperationException("refused"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(Soon));

        var next = shared.RunAsync(CancellationToken.None);
        await probes.EndAsync();
        await next.WaitAsync(Soon);
    }

    [Fact]
    public async Task ACallerGivingUpEndsItsOwnWaitNotTheProbe()
    {
        var probes = new Probes();
        var shared = new SharedProbe(probes.Next);
        using var impatient = new CancellationTokenSource();
        var leaving = shared.RunAsync(impatient.Token);
        var staying = shared.RunAsync(CancellationToken.None); // waits for the second probe

        impatient.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.WaitAsync(Soon));
        await probes.EndAsync();
        await probes.EndAsync();
        await staying.WaitAsync(Soon);
    }

    /// <summary>A probe that blocks its thread (SQLite's run synchronously) does not block the call that began it.</summary>
    [Fact]
    public async Task TheCallThatBeginsAProbeReturnsWithoutWaitingForIt()
    {
        using var release = new ManualResetEventSlim();
        var shared = new SharedProbe(() =>
        {
            release.Wait(Soon);
            return Task.CompletedTask;
        });

        // The call itself, on a thread of its own: it must come back while the probe still blocks.
        var call = Task.Factory.StartNew(() => shared.RunAsync(CancellationToken.None), CancellationToken.None,
            TaskCreationOptions.None, TaskScheduler.Default);
        var answer = await call.WaitAsync(Soon / 2);
        Assert.False(answer.IsCompleted);
        release.Set();
        await answer.WaitAsync(Soon);
    }
}
