namespace Patron.Writes;

/// <summary>
/// Whether this host's writers have lately had more than they can take: the cue for work that can
/// wait (the webhook dispatcher) to leave them the CPU. A queue's depth at one instant says little
/// under group commit, where each writer empties the queue into its batch, so a peak shows empty
/// queues as often as not. A writer that finds the next batch already waiting as it finishes one
/// was never idle: that moment is what is kept.
/// </summary>
public sealed class WritePressure
{
    private long _lastBackedUp = long.MinValue / 2;

    /// <summary>A writer finished a batch and found requests waiting.</summary>
    public void BackedUp() => Volatile.Write(ref _lastBackedUp, Environment.TickCount64);

    /// <summary>Whether a writer found requests waiting within the last <paramref name="window"/>.</summary>
    public bool Within(TimeSpan window) => Environment.TickCount64 - Volatile.Read(ref _lastBackedUp) < (long)window.TotalMilliseconds;
}
