using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Patron.Bench;

/// <summary>How the million-member chain was set up, for the report.</summary>
public sealed record MillionSetup(int Members, TimeSpan Import, string ImportSummary, TimeSpan Startup, int Cards, TimeSpan CardsSold);

/// <summary>
/// The cases at chain scale: a second service on a database of its own holding a million members,
/// loaded by <c>--import</c>, so that the 10,000-member cases keep their data and their numbers.
/// </summary>
/// <remarks>
/// Card use sells one card to each of <c>--million-cards</c> members (100,000 by default: every tenth
/// member), spread over the million: a times-card is bought by some members, not all, and 50 times
/// the small case's 2,000 cards make the card tables the size of a chain's, with a batch's uses
/// seldom on one entry.
/// </remarks>
public static class MillionMembers
{
    public static async Task<(ServiceProcess Service, Workload Workload, MillionSetup Setup)> StartAsync(
        BenchOptions options, Pgbench pgbench, Action<string> say, Action<ServiceProcess> started)
    {
        var workload = new Workload(options.MillionMembers);
        await pgbench.Psql("postgres", "-c", "CREATE DATABASE patron_million");
        var connection = options.PgConnection("patron_million");
        // The levels, the channel and the card; the members come from the file.
        var catalog = workload.WriteCatalog(Path.Combine(options.Work, "catalog-million.json"), withMembers: false);
        var csv = Path.Combine(options.Work, "members-million.csv");
        await WriteMembersAsync(csv, options.MillionMembers);

        say($"importing {options.MillionMembers:N0} members (--import) into a database of their own");
        var clock = Stopwatch.StartNew();
        var output = await Tools.RunAsync("dotnet", [options.PatronDll, "--storage", "postgres", "--connection", connection,
            "--catalog", catalog, "--import", csv, "--Logging:LogLevel:Default", "Warning"]);
        var import = clock.Elapsed;
        var summary = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        say(summary);
        File.Delete(csv);

        var folder = Directory.CreateDirectory(Path.Combine(options.Work, "postgres-million-service")).FullName;
        var service = await ServiceProcess.StartAsync("postgres-million", options, ["--storage", "postgres", "--connection", connection],
            folder, TimeSpan.FromMinutes(10));
        started(service);
        say($"service on the million-member database ready at {service.Url} in {service.StartupTime.TotalSeconds:0.0} s");

        service.Phase = "selling the cards of the million-member card-use case";
        var step = Math.Max(1, options.MillionMembers / options.MillionCards);
        using var http = LoadRunner.NewClient(service.Url, options.Connections);
        clock.Restart();
        await workload.SellCardsAsync(http, options.MillionCards, perSale: 1, member: i => (long)(i + 1) * step, parallel: options.Connections);
        var sold = clock.Elapsed;
        service.Phase = "between cases";
        say($"{options.MillionCards:N0} cards sold, one each to every {step}th member, in {sold.TotalSeconds:0.0} s");
        return (service, workload, new MillionSetup(options.MillionMembers, import, summary, service.StartupTime, options.MillionCards, sold));
    }

    /// <summary>The import's file: the same codes as the catalog's members, and an opening balance for all but every twentieth.</summary>
    private static async Task WriteMembersAsync(string path, int members)
    {
        await using var file = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        await file.WriteAsync("id,code,name,phone,balance,lifetimeEarned,level\n");
        var random = new Random(20261204);
        var line = new StringBuilder();
        for (var id = 1; id <= members; id++)
        {
            var balance = id % 20 == 0 ? 0 : random.Next(0, 5_000);
            line.Clear().Append(CultureInfo.InvariantCulture,
                $"{id},{Workload.MemberCode(id)},会员{id},139{id:D8},{balance},{balance + random.Next(0, 2_000)},\n");
            await file.WriteAsync(line);
        }
    }
}
