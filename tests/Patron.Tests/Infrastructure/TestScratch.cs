using System.Diagnostics;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// One folder per test run for everything the tests write: SQLite files, catalogs and the
/// PostgreSQL clusters. The test platform kills its test host at the end of a run, so exit
/// handlers in the host cannot be relied on to clean up. A watchdog outside the host waits for
/// it to be gone, however it goes, then stops the clusters in the folder and removes it. A run
/// whose watchdog was stopped too (the machine went down) is swept by the next run.
/// </summary>
public static class TestScratch
{
    private const string Prefix = "patron-run-";
    private const string OwnerFile = "owner";
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(10);
    private static readonly Lazy<string> Run = new(Create);

    /// <summary>The run's folder, made (and its watchdog started) on first use.</summary>
    public static string Folder => Run.Value;

    /// <summary>A path in the run's folder that nothing uses yet, ending in <paramref name="extension"/>.</summary>
    public static string NewPath(string prefix, string extension = "") =>
        Path.Combine(Folder, $"{prefix}{Guid.NewGuid().ToString("N")[..12]}{extension}");

    /// <summary>A new, empty folder in the run's folder (reachable by the postgres user, as the run's folder is).</summary>
    public static string NewFolder(string prefix) => Directory.CreateDirectory(NewPath(prefix)).FullName;

    /// <summary>pg_ctl, run as the postgres user when the tests run as root, as <see cref="PostgresCluster"/> runs it.</summary>
    private static string PgCtl
    {
        get
        {
            var path = Path.Combine(PostgresCluster.Bin, "pg_ctl");
            return Environment.UserName == "root" ? $"runuser -u postgres -- {path}" : path;
        }
    }

    private static string Create()
    {
        SweepOrphans();
        var folder = Path.Combine(Path.GetTempPath(), Prefix + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        // Whatever the umask, the postgres user must reach the clusters inside (chmod, unlike mkdir, ignores it).
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.WriteAllText(Path.Combine(folder, OwnerFile), Owner(Environment.ProcessId));
        // The watchdog is orphaned at once (the shell that starts it exits), so killing the host's process tree does not reach it.
        Bash($"( while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; {CleanUp(folder)} ) </dev/null >/dev/null 2>&1 &");
        return folder;
    }

    /// <summary>
    /// Stops every cluster still running in <paramref name="folder"/>, then removes the folder, its
    /// owner file first, so that a sweep starting meanwhile leaves it alone.
    /// </summary>
    private static string CleanUp(string folder) =>
        $"rm -f '{folder}/{OwnerFile}'; for d in '{folder}'/pg-*; do [ -f \"$d/postmaster.pid\" ] && {PgCtl} stop -D \"$d\" -m immediate -w; done; rm -rf '{folder}'";

    /// <summary>Cleans up, in the background, after earlier runs whose host is gone but whose folder is not.</summary>
    private static void SweepOrphans()
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            string owner;
            try
            {
                owner = File.ReadAllText(Path.Combine(folder, OwnerFile)).Trim();
            }
            catch (IOException)
            {
                // Being made, or being removed by its watchdog (which touches the folder as it goes), unless
                // untouched for a while: then its removal was cut short, as when CI ends a run's processes.
                if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) < AbandonedAfter)
                    continue;
                owner = "";
            }
            if (owner != "" && (!int.TryParse(owner.Split(' ')[0], out var pid) || Owner(pid) == owner))
                continue; // its run is still going, or the marker does not say whose it is
            Bash($"( {CleanUp(folder)} ) </dev/null >/dev/null 2>&1 &"); // a large folder takes a while to remove
        }
    }

    /// <summary>A process by its id and start time, so that a reused id does not pass for the test run that made a folder.</summary>
    private static string Owner(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return $"{pid} {stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19]}";
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static void Bash(string script)
    {
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { "-c", script },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"bash -c \"{script}\" exited {process.ExitCode}: {stderr.Result}");
    }
}
