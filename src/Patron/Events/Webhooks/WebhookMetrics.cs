using System.Diagnostics.Metrics;

namespace Patron.Events.Webhooks;

/// <summary>The dispatcher's instruments, on the service's meter "Patron".</summary>
public sealed class WebhookMetrics : IDisposable
{
    private readonly Meter _meter = new("Patron");
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _failures;
    private double _lagSeconds;

    /// <summary>This instance's meter, for a listener that wants its instruments only.</summary>
    public Meter Meter => _meter;

    public WebhookMetrics()
    {
        _deliveries = _meter.CreateCounter<long>("patron.webhook.deliveries", description: "Delivery attempts settled, by webhook and outcome");
        _failures = _meter.CreateCounter<long>("patron.webhook.failures", description: "Attempts that were not a 2xx, by webhook");
        _meter.CreateObservableGauge("patron.outbox.lag", () => Volatile.Read(ref _lagSeconds), unit: "s",
            description: "Age of the oldest due pending delivery, as last measured by the dispatcher");
    }

    public void Lag(TimeSpan lag) => Volatile.Write(ref _lagSeconds, Math.Max(0, lag.TotalSeconds));

    public void Settled(string webhook, string outcome)
    {
        _deliveries.Add(1, new KeyValuePair<string, object?>("webhook", webhook), new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome != "delivered")
            _failures.Add(1, new KeyValuePair<string, object?>("webhook", webhook));
    }

    public void Dispose() => _meter.Dispose();
}
