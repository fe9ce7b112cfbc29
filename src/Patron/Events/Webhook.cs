namespace Patron.Events;

/// <summary>A subscriber: where its events go, which it wants, and the secret they are signed with.</summary>
public sealed class Webhook
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public required string Url { get; set; }

    /// <summary>The event types it wants, space-separated; <c>*</c> is every type.</summary>
    public required string Events { get; set; }

    /// <summary>The signing secret, <c>whsec_…</c>, encrypted at rest.</summary>
    public required string Secret { get; set; }

    /// <summary>While a secret rotates, the one before it: deliveries carry a signature by each until <see cref="PreviousUntil"/>.</summary>
    public string? PreviousSecret { get; set; }

    public DateTimeOffset? PreviousUntil { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Why it was disabled, e.g. the receiver answered 410 Gone.</summary>
    public string? DisabledReason { get; set; }

    /// <summary>Whether the catalog file defines it (and a catalog load may change it) or an operator made it.</summary>
    public bool FromCatalog { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>One event for one subscriber, and where its sending stands.</summary>
public sealed class WebhookDelivery
{
    public const string Pending = "P", Delivered = "D", Failed = "F";

    public long Id { get; set; }
    public long EventId { get; set; }
    public int WebhookId { get; set; }

    /// <summary>The event's member: a subscriber gets a member's next event only once this one is settled.</summary>
    public long? MemberId { get; set; }

    public required string State { get; set; }
    public int Attempts { get; set; }

    /// <summary>When it is next to be sent.</summary>
    public DateTimeOffset DueAt { get; set; }

    /// <summary>While set and in the future, one dispatcher is sending it and no other may.</summary>
    public DateTimeOffset? LeasedUntil { get; set; }

    public int? LastStatus { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? DoneAt { get; set; }
}

/// <summary>One try at sending a delivery, and what the receiver answered.</summary>
public sealed class WebhookAttempt
{
    public long Id { get; set; }
    public long DeliveryId { get; set; }
    public DateTimeOffset At { get; set; }

    /// <summary>The receiver's HTTP status; null when there was no answer (refused, timed out).</summary>
    public int? Status { get; set; }

    public int DurationMs { get; set; }

    /// <summary>The start of the receiver's answer, for the console.</summary>
    public string? Answer { get; set; }

    public string? Error { get; set; }
}
