namespace Patron.Bench;

/// <summary>
/// The service's garbage collector over a case, from the runtime's own instruments on
/// <c>/metrics</c> (meter <c>System.Runtime</c>): bytes allocated, collections of any generation,
/// and the time the collector paused the process.
/// </summary>
public readonly record struct ServiceHeap(double AllocatedBytes, double Collections, double PauseSeconds)
{
    /// <summary>The counters in a scrape; null when it has none (a build that does not export them).</summary>
    public static ServiceHeap? Parse(string? text) =>
        text is not null && Scrape.Sum(text, "dotnet_gc_heap_total_allocated_bytes_total") is { } allocated
            ? new ServiceHeap(allocated, Scrape.Sum(text, "dotnet_gc_collections_total") ?? 0, Scrape.Sum(text, "dotnet_gc_pause_time_seconds_total") ?? 0)
            : null;

    public static ServiceHeap? Between(ServiceHeap? before, ServiceHeap? after) =>
        before is { } b && after is { } a
            ? new ServiceHeap(a.AllocatedBytes - b.AllocatedBytes, a.Collections - b.Collections, a.PauseSeconds - b.PauseSeconds)
            : null;
}
