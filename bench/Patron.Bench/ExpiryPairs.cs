using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Patron.Bench;

/// <summary>
/// Points add with the chain's <c>points.expiry</c> off and on (issue #23 asks for on within 10 % of
/// off), on PostgreSQL and on SQLite. Each round runs the two back to back, the order alternating
/// from round to round, so that a machine growing busier favours neither. The setting is written
/// straight into the service's database (<c>settings.pointsExpiry</c>: "none", or "days:365"): each
/// batch reads it in its own transaction, so it takes effect at once, with no restart and no catalog
/// of its own.
/// </summary>
public sealed class ExpiryPairs
{
    public const string PostgresKey = "points-expiry";
    public const string SqliteKey = "sqlite-points-expiry";
    public const string On = "days:365";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One case of a pair: the load average just before it, and the lots it wrote, with an expiry date and in all.</summary>
    public sealed record Side(string Backend, int Round, bool ExpiryOn, string LoadBefore, long LotsWithExpiry, long Lots, CaseResult Result);

    public List<Side> Sides { get; } = [];

    public static string OffKey(string key) => key + "-off";

    public static string OnKey(string key) => key + "-on";

    /// <summary>Runs one round's pair: off then on in odd rounds, on then off in even ones.</summary>
    public async Task<List<CaseResult>> RunRoundAsync(string backend, Func<DbConnection> database, Func<bool, LoadCase> caseFor,
        Func<ILoadConnection> connect, BenchOptions options, QuietCheck quiet, int round, Action<string> say)
    {
        var results = new List<CaseResult>();
        foreach (var on in round % 2 == 1 ? new[] { false, true } : [true, false])
        {
            await using var db = database();
            await db.OpenAsync();
            await ExecuteAsync(db, $"INSERT INTO settings (key, value) VALUES ('pointsExpiry', '{(on ? On : "none")}') " +
                                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
            var (withExpiry, lots) = await CountLotsAsync(db);
            var load = (await quiet.WaitAsync(caseFor(on).Key, round)).LoadAverage;
            say($"round {round}/{options.Rounds}  {backend}, expiry {(on ? "on" : "off")}: load average {load}");
            var r = await LoadRunner.RunAsync(caseFor(on), connect, options.Connections, TimeSpan.FromSeconds(options.Warmup),
                TimeSpan.FromSeconds(options.Duration), round);
            var (withExpiryAfter, lotsAfter) = await CountLotsAsync(db);
            Sides.Add(new Side(backend, round, on, load, withExpiryAfter - withExpiry, lotsAfter - lots, r));
            results.Add(r);
        }
        return results;
    }

    public static DbConnection Postgres(BenchOptions options) => new NpgsqlConnection(options.PgConnection("patron"));

    public static DbConnection Sqlite(string path) => new SqliteConnection($"Data Source={path};Default Timeout=30");

    private static async Task ExecuteAsync(DbConnection db, string sql)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<(long WithExpiry, long All)> CountLotsAsync(DbConnection db)
    {
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT COUNT(expires_at), COUNT(*) FROM point_lots";
        await using var r = await command.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetInt64(1));
    }

    /// <summary>The report's section: every pair, and the median ratio per backend against the goal.</summary>
    public string Markdown()
    {
        var md = new StringBuilder();
        md.AppendLine("## Points add, `points.expiry` off and on");
        md.AppendLine();
        md.AppendLine(Inv, $"Each round runs the two back to back, the order alternating; on is `{On}`, written into the service's settings before the case. Load average (1, 5, 15 min) read by the quiet check just before each case.");
        md.AppendLine();
        md.AppendLine("| backend | round | first | load before off | off req/s (p50 / p99 ms) | load before on | on req/s (p50 / p99 ms) | on ÷ off | lots written with an expiry date (warm-up included), off / on |");
        md.AppendLine("|---|--:|---|---|--:|---|--:|--:|---|");
        foreach (var pair in Sides.GroupBy(s => (s.Backend, s.Round)))
        {
            var off = pair.Single(s => !s.ExpiryOn);
            var on = pair.Single(s => s.ExpiryOn);
            md.AppendLine(Inv, $"| {pair.Key.Backend} | {pair.Key.Round} | {(pair.First().ExpiryOn ? "on" : "off")} | {off.LoadBefore} | {Side(off)} | {on.LoadBefore} | {Side(on)} | " +
                               $"{on.Result.Throughput / off.Result.Throughput:0.000} | {off.LotsWithExpiry:N0} of {off.Lots:N0} / {on.LotsWithExpiry:N0} of {on.Lots:N0} |");
        }
        md.AppendLine();
        foreach (var backend in Sides.Select(s => s.Backend).Distinct())
        {
            var ratio = Ratio(backend);
            md.AppendLine(Inv, $"- {backend}: median on ÷ off {ratio:0.000} (goal ≥ 0.90) {(ratio >= 0.9 ? "✓" : "✗")}");
        }
        md.AppendLine();
        return md.ToString();

        static string Side(Side s) => string.Create(Inv, $"{s.Result.Throughput:N0} ({s.Result.P50Ms:0.00} / {s.Result.P99Ms:0.00})");
    }

    /// <summary>The median over the rounds of each round's on ÷ off.</summary>
    public double Ratio(string backend)
    {
        var ratios = Sides.Where(s => s.Backend == backend).GroupBy(s => s.Round)
            .Select(g => g.Single(s => s.ExpiryOn).Result.Throughput / g.Single(s => !s.ExpiryOn).Result.Throughput).Order().ToArray();
        return ratios.Length == 0 ? double.NaN
            : ratios.Length % 2 == 1 ? ratios[ratios.Length / 2] : (ratios[ratios.Length / 2 - 1] + ratios[ratios.Length / 2]) / 2;
    }
}
