namespace Patron.Tests.Model;

/// <summary>
/// The lifecycle runs' clock: set to the run's own start when the run begins, then moved only by
/// its Advance operations. Runs go one at a time, so each sees a clock that only moves forward;
/// between runs it goes back, so that a run's seed replays at the same instants. Unlike
/// FakeTimeProvider, whose time never goes back, timers stay the system's: advancing the clock
/// must not wake the settling job's own loop, which would settle at moments the model never sees.
/// </summary>
public sealed class RunClock : TimeProvider
{
    private long _ticks = Infrastructure.TestWorld.Start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Set(DateTimeOffset instant) => Interlocked.Exchange(ref _ticks, instant.UtcTicks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
