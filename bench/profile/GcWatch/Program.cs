// GcWatch PID SECONDS: the collector of a running .NET process over SECONDS, through EventPipe (the
// runtime's GC keyword): how many collections of each generation, what each promoted, how long the
// process stood paused, and what it allocated by type (the runtime's allocation ticks, a sample
// about every 100 KB). Run by bench/profile/gc in the middle of a bench case.
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

if (args.Length != 2 || !int.TryParse(args[0], out var pid) || !int.TryParse(args[1], out var seconds) || seconds < 1)
{
    Console.Error.WriteLine("usage: GcWatch PID SECONDS");
    return 2;
}

var gc = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, (long)ClrTraceEventParser.Keywords.GC);
using var session = new DiagnosticsClient(pid).StartEventPipeSession([gc], requestRundown: false);
using var source = new EventPipeEventSource(session.EventStream);

var collections = new int[3];
long fromGen0 = 0, fromGen1 = 0, allocated = 0;
double paused = 0, suspendedAt = -1;
var byType = new Dictionary<string, long>();
source.Clr.GCStart += e => collections[Math.Min(e.Depth, 2)]++;
source.Clr.GCHeapStats += e => (fromGen0, fromGen1) = (fromGen0 + e.TotalPromotedSize0, fromGen1 + e.TotalPromotedSize1);
source.Clr.GCSuspendEEStart += e => suspendedAt = e.TimeStampRelativeMSec;
source.Clr.GCRestartEEStop += e =>
{
    if (suspendedAt >= 0)
        paused += e.TimeStampRelativeMSec - suspendedAt;
    suspendedAt = -1;
};
source.Clr.GCAllocationTick += e =>
{
    var type = e.TypeName ?? "?";
    byType[type] = byType.GetValueOrDefault(type) + e.AllocationAmount64;
    allocated += e.AllocationAmount64;
};

_ = Task.Delay(TimeSpan.FromSeconds(seconds)).ContinueWith(_ => session.Stop());
source.Process();

var all = collections.Sum();
Console.WriteLine($"{seconds} s of process {pid}'s collector");
Console.WriteLine($"  collections: {all} (gen0 {collections[0]}, gen1 {collections[1]}, gen2 {collections[2]})");
Console.WriteLine($"  promoted out of gen0: {fromGen0 / 1e6:F1} MB, {(all == 0 ? 0 : fromGen0 / all / 1e3):F0} KB a collection; out of gen1: {fromGen1 / 1e6:F1} MB");
Console.WriteLine($"  paused: {paused:F0} ms, {paused / 10 / seconds:F1} % of the time");
Console.WriteLine($"  allocated (sampled): {allocated / 1e6:F1} MB; by type:");
foreach (var (type, bytes) in byType.OrderByDescending(t => t.Value).Take(20))
    Console.WriteLine($"    {100.0 * bytes / Math.Max(allocated, 1),5:F1} %  {type}");
return 0;
