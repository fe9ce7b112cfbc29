using System.Globalization;

namespace Patron.Bench;

/// <summary>The service's <c>/metrics</c> in Prometheus text (loopback callers need no token), and reading a series' value out of it.</summary>
public static class Scrape
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The text now; null when the service does not answer it (an old build, a failure).</summary>
    public static async Task<string?> ReadAsync(Uri service)
    {
        try
        {
            return await Http.GetStringAsync(new Uri(service, "/metrics"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The sum of every series of the metric <paramref name="name"/> (whatever its labels); null when it has none.</summary>
    public static double? Sum(string text, string name)
    {
        double? sum = null;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith(name) || line.Length == name.Length || line[name.Length] is not ('{' or ' '))
                continue;
            if (double.TryParse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                sum = (sum ?? 0) + value;
        }
        return sum;
    }
}
