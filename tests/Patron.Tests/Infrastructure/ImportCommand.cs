using System.Diagnostics;

namespace Patron.Tests.Infrastructure;

/// <summary><c>dotnet Patron.dll --import FILE</c> as an operator runs it: its exit code and what it printed.</summary>
public static class ImportCommand
{
    public sealed record Result(int ExitCode, string Output, string Errors);

    public static async Task<Result> RunAsync(string storage, string connection, string csv)
    {
        var file = TestScratch.NewPath("members-", ".csv");
        await File.WriteAllTextAsync(file, csv);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "Patron.dll"), "--storage", storage,
                     "--connection", connection, "--import", file, "--contentRoot", AppContext.BaseDirectory,
                     "--Logging:LogLevel:Default", "Warning"])
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start Patron");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await output, await errors);
    }
}
