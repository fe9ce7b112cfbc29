using System.Globalization;

namespace Patron.Bench;

/// <summary>What bench/run passes in: where things are, and how long to measure.</summary>
public sealed class BenchOptions
{
    public required string Repo { get; init; }
    public required string Work { get; init; }
    public required string PatronDll { get; init; }
    public required int PgPort { get; init; }
    public string PgBin { get; init; } = "/usr/lib/postgresql/15/bin";
    public string Out { get; init; } = "";
    public int Rounds { get; init; } = 3;
    public int Duration { get; init; } = 20;
    public int Warmup { get; init; } = 5;
    public int Connections { get; init; } = 32;

    /// <summary>
    /// Requests per second offered by all connections together, 0 for a closed loop (each connection
    /// sends as soon as its last answer came). Under a rate the service's CPU is spent on a fixed amount
    /// of work, so two builds' CPU per request compare without the noise of what each could peak at.
    /// </summary>
    public int Rate { get; init; }

    /// <summary>The second connection count of the service's cases (keys ending in -N): what a chain's peak looks like.</summary>
    public int Many { get; init; } = 256;

    /// <summary>
    /// The quiet check (<see cref="QuietCheck"/>): the machine's CPU busy over <see cref="QuietWindow"/> seconds, percent of
    /// all cores, must be under <see cref="QuietCpu"/> before each case; past <see cref="QuietWait"/> seconds of waiting the run
    /// stops. 100 turns the check into a report only.
    /// </summary>
    public int QuietCpu { get; init; } = 10;
    public int QuietWindow { get; init; } = 3;
    public int QuietWait { get; init; } = 120;

    /// <summary>
    /// Seconds each selected service case runs once, unmeasured, before round 1: a service compiles
    /// its code as it first runs and tiers it up over tens of seconds of load, which a case's own
    /// warm-up of a few seconds does not cover.
    /// </summary>
    public int ServiceWarmup { get; init; } = 10;
    public int Members { get; init; } = 10_000;
    public int Cards { get; init; } = 2_000;

    /// <summary>The chain-scale cases' members (imported) and cards (one each, spread over them): <see cref="MillionMembers"/>.</summary>
    public int MillionMembers { get; init; } = 1_000_000;
    public int MillionCards { get; init; } = 100_000;

    /// <summary>
    /// The load generator's client: "raw" (<see cref="RawHttpConnection"/>, the default) or "httpclient"
    /// (<see cref="HttpClientConnection"/>, which costs more CPU a request on the cores the service runs on).
    /// </summary>
    public string Client { get; init; } = "raw";

    /// <summary>
    /// An earlier build's Patron.dll (another clone's Release build) that the webhooks cases also run
    /// on, on a database of its own, beside this build in every round: "before" and "after" measured
    /// side by side rather than in runs of their own.
    /// </summary>
    public string? Baseline { get; init; }

    /// <summary>
    /// Environment variables set for the services only (NAME=VALUE, comma-separated): a runtime setting tried on the
    /// service without changing the load generator, which runs on the same runtime.
    /// </summary>
    public IReadOnlyDictionary<string, string> ServiceEnv { get; init; } = new Dictionary<string, string>();

    /// <summary>Case keys to run (all when empty), for trying one case quickly.</summary>
    public HashSet<string> Only { get; init; } = [];

    public string PgHost => "127.0.0.1";

    public string PgConnection(string database) =>
        $"Host={PgHost};Port={PgPort};Database={database};Username=postgres";

    public const string Usage = """
        usage: Patron.Bench --repo DIR --work DIR --patron Patron.dll --pg-port N [--pg-bin DIR]
                            [--out DIR] [--rounds N] [--duration S] [--warmup S] [--service-warmup S] [--connections N] [--many N] [--rate N]
                            [--quiet-cpu PERCENT] [--quiet-window S] [--quiet-wait S]
                            [--members N] [--cards N] [--million-members N] [--million-cards N] [--only case,case] [--client raw|httpclient] [--baseline Patron.dll]
                            [--service-env NAME=VALUE,NAME=VALUE] [--quick]
        """;

    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var quick = false;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--quick")
                quick = true;
            else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
                values[args[i][2..]] = args[++i];
            else
                throw new ArgumentException($"unexpected argument '{args[i]}'");
        }

        string Required(string name) => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        int Number(string name, int fallback) =>
            values.TryGetValue(name, out var v)
                ? int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"--{name} must be a positive integer")
                : fallback;

        var repo = Path.GetFullPath(Required("repo"));
        var options = new BenchOptions
        {
            Repo = repo,
            Work = Path.GetFullPath(Required("work")),
            PatronDll = Path.GetFullPath(Required("patron")),
            PgPort = Number("pg-port", 0),
            PgBin = values.GetValueOrDefault("pg-bin", "/usr/lib/postgresql/15/bin"),
            Out = Path.GetFullPath(values.GetValueOrDefault("out", Path.Combine(repo, "bench", "results"))),
            // --quick: one short round, to see that everything works, not to measure.
            Rounds = Number("rounds", quick ? 1 : 3),
            Duration = Number("duration", quick ? 5 : 20),
            Warmup = Number("warmup", quick ? 2 : 5),
            Connections = Number("connections", 32),
            Many = Number("many", 256),
            Rate = Number("rate", 0),
            QuietCpu = Math.Min(100, Number("quiet-cpu", 10)),
            QuietWindow = Number("quiet-window", 3),
            QuietWait = Number("quiet-wait", 120),
            ServiceWarmup = Number("service-warmup", quick ? 1 : 10),
            Members = Number("members", 10_000),
            Cards = Number("cards", 2_000),
            MillionMembers = Number("million-members", 1_000_000),
            MillionCards = Number("million-cards", 100_000),
            Client = values.GetValueOrDefault("client", "raw") is "raw" or "httpclient" ? values.GetValueOrDefault("client", "raw")
                : throw new ArgumentException("--client must be raw or httpclient"),
            Baseline = values.TryGetValue("baseline", out var baseline) ? Path.GetFullPath(baseline) : null,
            ServiceEnv = ParseEnv(values.GetValueOrDefault("service-env", "")),
            Only = [.. values.GetValueOrDefault("only", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
        };
        if (options.PgPort == 0)
            throw new ArgumentException("--pg-port is required");
        if (options.Baseline is { } dll && !File.Exists(dll))
            throw new ArgumentException($"--baseline: no file {dll}");
        if (options.Many == options.Connections)
            throw new ArgumentException("--many must differ from --connections: the keys of the two would be the same cases");
        return options;
    }

    private static Dictionary<string, string> ParseEnv(string list)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0)
                throw new ArgumentException($"--service-env: '{pair}' is not NAME=VALUE");
            env[pair[..eq]] = pair[(eq + 1)..];
        }
        return env;
    }
}
