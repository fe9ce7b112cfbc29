namespace Patron.Bench;

/// <summary>A service case at one connection count, ready to run.</summary>
public sealed record HttpCase(LoadCase Case, Func<ILoadConnection> Connect, string Label, CaseKind Kind, int Connections);

/// <summary>Where a case's requests go: a service, its connections, and its workload (its members and cards).</summary>
public sealed record Target(ServiceProcess Service, Func<ILoadConnection> Connect, Workload Workload);

/// <summary>
/// The service's cases, each at <see cref="BenchOptions.Connections"/> (its key) and most also at
/// <see cref="BenchOptions.Many"/> (its key with -N): the order here is the order in a round, each
/// case beside its other connection count, so that a ratio between the two compares neighbours.
/// </summary>
public static class ServiceCases
{
    public const string Small = "small", Million = "million", Sqlite = "sqlite";

    private sealed record Definition(string Key, string Title, string Label, CaseKind Kind, bool AlsoMany, string Target,
        Func<Workload, Func<HttpRequestMessage>> Request, ResponseCheck Check);

    private static readonly Definition[] Definitions =
    [
        new("points-random", "points add, random members", "points add random", CaseKind.Postgres, true, Small, w => w.PointAddRandom, Checks.PointsEnvelope),
        new("points-random-1m", "points add, random members of 1,000,000", "points add random, 1M members", CaseKind.Postgres, true, Million,
            w => w.PointAddRandom, Checks.PointsEnvelope),
        new("points-hot", "points add, one member", "points add hot member", CaseKind.Postgres, true, Small, w => w.PointAddHot, Checks.PointsEnvelope),
        new("card-use", "card use (useMncard), random cards", "card use", CaseKind.Postgres, true, Small, w => w.CardUse, Checks.OpenApiEnvelope),
        new("card-use-1m", "card use (useMncard), 100,000 cards of 1,000,000 members", "card use, 1M members", CaseKind.Postgres, true, Million,
            w => w.CardUse, Checks.OpenApiEnvelope),
        new("card-sale", "card sale (sendMncardForSale), num 1", "card sale", CaseKind.Postgres, false, Small, w => w.CardSale, Checks.OpenApiEnvelope),
        new("sqlite-points", "points add on SQLite, random members", "SQLite points add", CaseKind.Sqlite, true, Sqlite, w => w.PointAddRandom, Checks.PointsEnvelope),
        new("health", "GET /health (the HTTP ceiling; it reads the database once)", "GET /health", CaseKind.Read, true, Small, w => w.Health, Checks.Ok),
        new("card-query", "queryMncardByMember (open API), a random card holder", "queryMncardByMember", CaseKind.Read, true, Small,
            w => w.CardQuery, Checks.OpenApiEnvelope),
        new("member-get", "GET /api/v1/members/{id} (operator token), random members", "GET member", CaseKind.Read, true, Small, w => w.MemberGet, Checks.Ok),
    ];

    /// <summary>Every key, for --only.</summary>
    public static IEnumerable<string> Keys(BenchOptions options) =>
        Definitions.SelectMany(d => d.AlsoMany ? new[] { d.Key, ManyKey(d.Key, options) } : [d.Key]);

    public static string ManyKey(string key, BenchOptions options) => $"{key}-{options.Many}";

    /// <summary>Whether the million-member service is needed by the selected cases.</summary>
    public static bool NeedsMillion(Func<string, bool> selected, BenchOptions options) =>
        Definitions.Where(d => d.Target == Million).Any(d => selected(d.Key) || (d.AlsoMany && selected(ManyKey(d.Key, options))));

    /// <summary>The selected cases, in a round's order; those of a target not given are left out.</summary>
    public static List<HttpCase> Build(BenchOptions options, IReadOnlyDictionary<string, Target> targets, Func<string, bool> selected)
    {
        var cases = new List<HttpCase>();
        foreach (var d in Definitions)
        {
            if (!targets.TryGetValue(d.Target, out var target))
                continue;
            foreach (var (key, connections) in d.AlsoMany ? new[] { (d.Key, options.Connections), (ManyKey(d.Key, options), options.Many) } : [(d.Key, options.Connections)])
            {
                if (!selected(key))
                    continue;
                var title = d.Target == Million ? d.Title.Replace("1,000,000", options.MillionMembers.ToString("N0"), StringComparison.Ordinal)
                    .Replace("100,000", options.MillionCards.ToString("N0"), StringComparison.Ordinal) : d.Title;
                cases.Add(new HttpCase(new LoadCase(key, $"{title}, {connections} connections", target.Service, d.Request(target.Workload), d.Check),
                    target.Connect, connections == options.Connections ? d.Label : $"{d.Label} ({connections})", d.Kind, connections));
            }
        }
        return cases;
    }

    /// <summary>
    /// A round's order: pgbench's cases spread evenly among the service's (pg, service, pg, service …
    /// when there are as many), so that each round's limit is measured across the round, not before it.
    /// </summary>
    public static List<T> Interleave<T>(IReadOnlyList<T> pgbench, IReadOnlyList<T> service)
    {
        var order = new List<T>(pgbench.Count + service.Count);
        var next = 0;
        for (var i = 0; i < pgbench.Count; i++)
        {
            for (var until = i * service.Count / pgbench.Count; next < until; next++)
                order.Add(service[next]);
            order.Add(pgbench[i]);
            if (pgbench.Count >= service.Count && next < service.Count)
                order.Add(service[next++]);
        }
        order.AddRange(service.Skip(next));
        return order;
    }
}
