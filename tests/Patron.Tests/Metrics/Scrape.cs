using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Patron.Tests.Metrics;

/// <summary>One series of a Prometheus text scrape: its name, labels and value.</summary>
public sealed record Series(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A Prometheus text exposition, parsed enough to find series by name and labels.</summary>
public sealed partial class Scrape(IReadOnlyList<Series> series)
{
    [GeneratedRegex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)""")]
    private static partial Regex Line();

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)""")]
    private static partial Regex Label();

    public IReadOnlyList<Series> Series => series;

    public static Scrape Parse(string text) => new([.. text.Split('\n')
        .Where(l => l.Length > 0 && l[0] != '#')
        .Select(l => Line().Match(l))
        .Where(m => m.Success)
        .Select(m => new Series(m.Groups[1].Value,
            Label().Matches(m.Groups[2].Value).ToDictionary(l => l.Groups[1].Value, l => Regex.Unescape(l.Groups[2].Value)),
            double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)))]);

    /// <summary>The sum over every series of the name whose labels include all of <paramref name="labels"/>.</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) => series
        .Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
        .Sum(s => s.Value);

    /// <summary>Every series of the name, one a line: for a failing assertion's message.</summary>
    public string Dump(string name) => string.Join("\n", series.Where(s => s.Name == name)
        .Select(s => $"{{{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}"));

    public bool Has(string name) => series.Any(s => s.Name == name);

    public static async Task<Scrape> FromAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Parse(await response.Content.ReadAsStringAsync());
    }
}

/// <summary>
/// Stands in for the network in TestServer, which has no remote address of its own: a request's
/// <c>X-Test-Remote</c> header becomes its remote IP address, so a test can be any caller.
/// </summary>
public sealed class FakeRemoteAddress : IStartupFilter
{
    public const string Header = "X-Test-Remote";

    public static void AddTo(IWebHostBuilder builder) =>
        builder.ConfigureServices(s => s.AddSingleton<IStartupFilter, FakeRemoteAddress>());

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((http, nextMiddleware) =>
        {
            if (http.Request.Headers[Header].ToString() is { Length: > 0 } ip)
                http.Connection.RemoteIpAddress = IPAddress.Parse(ip);
            return nextMiddleware(http);
        });
        next(app);
    };

    public static HttpClient From(HttpClient client, string ip)
    {
        client.DefaultRequestHeaders.Add(Header, ip);
        return client;
    }
}
