namespace Patron.Events.Webhooks;

/// <summary>What an attempt's answer does to its delivery, decided here once for both backends.</summary>
public sealed record DeliveryOutcome(string State, int Attempts, DateTimeOffset DueAt, DateTimeOffset? DoneAt, bool DisablesWebhook, string Metric)
{
    /// <summary>
    /// A 2xx delivered it; a 410 Gone says the receiver is gone for good, so the subscription is
    /// disabled and the delivery failed; anything else (another status, a timeout, no connection)
    /// is tried again after the next wait, and fails after the last.
    /// </summary>
    public static DeliveryOutcome Decide(int? status, int attemptsBefore, DateTimeOffset dueBefore, IReadOnlyList<TimeSpan> retries, DateTimeOffset now)
    {
        var attempts = attemptsBefore + 1;
        if (status is >= 200 and <= 299)
            return new(WebhookDelivery.Delivered, attempts, dueBefore, now, false, "delivered");
        if (status == 410)
            return new(WebhookDelivery.Failed, attempts, dueBefore, now, true, "gone");
        if (attempts > retries.Count)
            return new(WebhookDelivery.Failed, attempts, dueBefore, now, false, "failed");
        return new(WebhookDelivery.Pending, attempts, now + retries[attempts - 1], null, false, "retry");
    }
}
