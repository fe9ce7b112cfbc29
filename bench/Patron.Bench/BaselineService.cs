namespace Patron.Bench;

/// <summary>
/// The webhooks cases' baseline (<c>--baseline</c>): an earlier build as a service of its own, on a
/// database of its own with the same catalog, and the card-use case's cards sold there too.
/// </summary>
public static class BaselineService
{
    public const string Name = "baseline";

    public static async Task<(ServiceProcess Service, Workload Workload)> StartAsync(BenchOptions options, Pgbench pgbench, string catalog,
        Action<string> say, Action<ServiceProcess> started)
    {
        var dll = options.Baseline ?? throw new InvalidOperationException("no --baseline given");
        await pgbench.Psql("postgres", "-c", "CREATE DATABASE patron_baseline");
        var folder = Directory.CreateDirectory(Path.Combine(options.Work, "baseline-service")).FullName;
        var service = await ServiceProcess.StartAsync(Name, options,
            ["--storage", "postgres", "--connection", options.PgConnection("patron_baseline"), "--catalog", catalog], folder, TimeSpan.FromMinutes(10), dll);
        started(service);
        say($"baseline service ({dll}) ready at {service.Url} in {service.StartupTime.TotalSeconds:0.0} s");
        var workload = new Workload(options.Members);
        using var http = LoadRunner.NewClient(service.Url, options.Connections);
        service.Phase = "selling the cards of the baseline's card-use case";
        await workload.SellCardsAsync(http, options.Cards, perSale: 10);
        service.Phase = "between cases";
        return (service, workload);
    }
}
