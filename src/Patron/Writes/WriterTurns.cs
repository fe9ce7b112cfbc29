namespace Patron.Writes;

/// <summary>
/// When a writer loop may start a batch. Alone, at once. Beside a batch already in flight, only once
/// <c>overlapAt</c> requests wait: much of a batch's cost in the database is the batch's own (its
/// round trips, its commit, the wake-ups), so a second writer that took the two or three requests
/// that came in behind the first batch would pay it for them alone. Fewer wait for the writer in
/// flight, which takes them when it is done.
/// </summary>
/// <remarks>
/// A writer that may not start parks until it is woken: by a request that brings the waiting to
/// <c>overlapAt</c>, or by a writer finishing its batch. The last writer to finish always finds
/// none in flight, so requests are never left waiting with every writer parked.
/// </remarks>
public sealed class WriterTurns(int overlapAt)
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private int _inFlight;
    private int _parked;
    private volatile bool _closing;

    /// <summary>Writers parked now, waiting for enough requests or for a batch to finish.</summary>
    public int Parked => Volatile.Read(ref _parked);

    /// <summary>
    /// True: the writer starts a batch now and calls <see cref="Done"/> when it is settled. False: it
    /// was parked and has been woken; it looks at the queue again.
    /// </summary>
    public async ValueTask<bool> StartOrParkAsync(int waiting)
    {
        lock (_gate)
        {
            if (_inFlight == 0 || waiting >= overlapAt || _closing)
            {
                _inFlight++;
                return true;
            }
            _parked++;
        }
        await _wake.WaitAsync();
        lock (_gate)
            _parked--;
        return false;
    }

    /// <summary>A batch is settled: a parked writer looks again, and takes what has gathered if this one does not.</summary>
    public void Done()
    {
        lock (_gate)
        {
            _inFlight--;
            if (_parked == 0)
                return;
        }
        Wake();
    }

    /// <summary>A request has joined the queue, which now holds <paramref name="waiting"/>.</summary>
    public void Queued(int waiting)
    {
        if (waiting >= overlapAt && Parked > 0)
            Wake();
    }

    /// <summary>The queue is closing: no writer parks again, and those parked wake to drain it and stop.</summary>
    public void Close(int writers)
    {
        _closing = true;
        _wake.Release(writers);
    }

    // One pending wake-up is enough: the writer it wakes looks at the queue as it is then.
    private void Wake()
    {
        if (_wake.CurrentCount == 0)
            _wake.Release();
    }
}
