using System.Globalization;

namespace Patron.Writes;

/// <summary>
/// Whether this host's writes need every bit of CPU there is: the cue for work that can wait (the
/// webhook dispatcher) to leave it to them. Two things must hold. The writers back up: a writer
/// that finds the next batch already waiting as it finishes one, before its answers go out, so
/// that a caller's next request, sent on its answer, does not count (a queue's depth at one instant
/// says little under group commit, where each writer empties the queue into its batch). And the
/// machine is busy: under group commit writers back up at a few hundred requests a second already,
/// since a batch takes a commit's time however small it is, so backing up alone would have the
/// dispatcher fall behind at an ordinary lunch hour; only with most of the cores taken does its
/// work come out of the writes'. (Group commit at its peak leaves some cores idle, waiting on
/// the log's flushes: 80–85 % busy on the benchmark's two cores.)
/// </summary>
public sealed class WritePressure(Func<double?> machineBusy)
{
    /// <summary>The share of the machine's CPU, over the last moments, above which the cores count as taken.</summary>
    public const double Busy = 0.75;

    private long _lastBackedUp = long.MinValue / 2;

    public WritePressure() : this(new MachineCpu().Busy)
    {
    }

    /// <summary>A writer committed a batch and, before answering it, found requests waiting.</summary>
    public void BackedUp() => Volatile.Write(ref _lastBackedUp, Environment.TickCount64);

    /// <summary>Whether a writer found requests waiting within the last <paramref name="window"/>.</summary>
    public bool BackedUpWithin(TimeSpan window) => Environment.TickCount64 - Volatile.Read(ref _lastBackedUp) < (long)window.TotalMilliseconds;

    /// <summary>Whether the writers backed up within <paramref name="window"/> on a machine whose cores are taken (unknown: not).</summary>
    public bool Saturated(TimeSpan window) => BackedUpWithin(window) && machineBusy() >= Busy;
}

/// <summary>
/// The machine's CPU busy share between two reads of <c>/proc/stat</c>, at least a quarter of a
/// second apart (a read sooner gives the last figure); null where there is no such file.
/// </summary>
public sealed class MachineCpu(string path = "/proc/stat", TimeSpan? spacing = null)
{
    private readonly TimeSpan _spacing = spacing ?? TimeSpan.FromMilliseconds(250);

    private readonly Lock _lock = new();
    private (long Busy, long Total)? _last;
    private long _lastAt = long.MinValue / 2;
    private double? _share;

    public double? Busy()
    {
        lock (_lock)
        {
            if (Environment.TickCount64 - _lastAt < _spacing.TotalMilliseconds)
                return _share;
            _lastAt = Environment.TickCount64;
            var now = Read();
            if (now is not { } n)
                _share = null; // a file gone unreadable is an unknown share, not the last one
            else if (_last is { } l && n.Total > l.Total)
                _share = (double)(n.Busy - l.Busy) / (n.Total - l.Total);
            _last = now;
            return _share;
        }
    }

    private (long Busy, long Total)? Read()
    {
        try
        {
            using var reader = new StreamReader(path);
            return reader.ReadLine() is { } line ? Parse(line) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The first line of /proc/stat, "cpu user nice system idle iowait irq softirq steal …": idle and iowait are not busy.</summary>
    public static (long Busy, long Total)? Parse(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 5 || fields[0] != "cpu")
            return null;
        long total = 0, idle = 0;
        for (var i = 1; i < fields.Length && i <= 8; i++)
        {
            if (!long.TryParse(fields[i], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
                return null;
            total += ticks;
            if (i is 4 or 5)
                idle += ticks;
        }
        return (total - idle, total);
    }
}
