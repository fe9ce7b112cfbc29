using System.Globalization;
using System.Runtime.InteropServices;

namespace Patron.Bench;

/// <summary>What the numbers were measured on, for the report's heading.</summary>
public sealed record MachineInfo(
    DateTimeOffset Date, int Cores, double RamGiB, string CpuModel, string Kernel, string DotNet, string PostgresVersion,
    string PostgresSettings, string Commit, string WorkFilesystem, string LoadAtStart)
{
    public static async Task<MachineInfo> ReadAsync(BenchOptions options, Pgbench pgbench)
    {
        var memKb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var sdk = (await Try(() => Tools.RunAsync("dotnet", ["--version"]))).Trim();
        var version = (await Try(() => pgbench.Psql("postgres", "-c", "SELECT version()"))).Trim();
        var settings = (await Try(() => pgbench.Psql("postgres", "-F", "=", "-R", ", ", "-c",
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN " +
            "('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_wal_size', 'max_connections') ORDER BY name"))).Trim();
        var filesystem = (await Try(() => Tools.RunAsync("findmnt", ["-n", "-o", "FSTYPE", "-T", options.Work]))).Trim();
        return new MachineInfo(
            DateTimeOffset.Now, Environment.ProcessorCount, long.Parse(memKb, CultureInfo.InvariantCulture) / 1024.0 / 1024.0, cpu,
            File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), $"{RuntimeInformation.FrameworkDescription} (SDK {sdk})",
            version, settings, await CommitAsync(options.PatronDll), filesystem, LoadAverage());
    }

    /// <summary>The commit of the checkout a build came from: --patron and --baseline may name other clones' builds.</summary>
    public static async Task<string> CommitAsync(string dll)
    {
        var repo = Path.GetDirectoryName(dll) ?? ".";
        var commit = (await Try(() => Tools.RunAsync("git", ["-C", repo, "rev-parse", "--short", "HEAD"]))).Trim();
        var dirty = (await Try(() => Tools.RunAsync("git", ["-C", repo, "status", "--porcelain", "--", ":/src"]))).Trim().Length > 0;
        return commit + (dirty ? " with uncommitted changes in src/" : "");
    }

    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static async Task<string> Try(Func<Task<string>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}

/// <summary>How long the set-up took: worth knowing, and part of the service's behaviour too.</summary>
public sealed record SetupInfo(TimeSpan PostgresStartup, TimeSpan SqliteStartup, TimeSpan CardsSold, int Cards);
