using System.Globalization;

namespace Patron.Events.Webhooks;

/// <summary>The dispatcher's settings, section <c>Webhooks</c> (docs/events.md).</summary>
public sealed class WebhookOptions
{
    public const string DefaultRetries = "5s,5m,30m,2h,5h,10h,10h";

    /// <summary>How long the dispatcher sleeps when a pass found nothing to do.</summary>
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>How long a receiver has to answer, connection included.</summary>
    public int TimeoutSeconds { get; set; } = 15;

    /// <summary>The waits after each failed attempt; after the last, the delivery has failed.</summary>
    public string Retries { get; set; } = DefaultRetries;

    /// <summary>How long settled deliveries and their events are kept for the console.</summary>
    public int KeepDays { get; set; } = 30;

    /// <summary>Whether this instance runs the dispatcher in the background.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Deliveries claimed and sent at a time.</summary>
    public int Parallel { get; set; } = 32;

    /// <summary>
    /// How long a claimed delivery is this instance's: longer than any send can take, so that
    /// only a dead instance's claims run out and are sent again by another.
    /// </summary>
    public TimeSpan Lease => TimeSpan.FromSeconds(2 * TimeoutSeconds + 5);

    public IReadOnlyList<TimeSpan> RetryWaits() => ParseRetries(Retries) ?? throw new InvalidOperationException($"Webhooks:Retries is not a list of waits: '{Retries}'");

    /// <summary>"5s,5m,2h,1d" → the waits; null when any part is not a positive number with a unit of s, m, h or d.</summary>
    public static IReadOnlyList<TimeSpan>? ParseRetries(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var waits = new List<TimeSpan>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length < 2 || !int.TryParse(part[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
                return null;
            TimeSpan? wait = part[^1] switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => null,
            };
            if (wait is null)
                return null;
            waits.Add(wait.Value);
        }
        return waits;
    }

    public bool IsValid() => PollMilliseconds > 0 && TimeoutSeconds > 0 && KeepDays > 0 && Parallel > 0 && ParseRetries(Retries) is not null;
}
