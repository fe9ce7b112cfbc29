namespace Patron.Events;

/// <summary>
/// One event in the outbox, written in the transaction that made the change, so that an event is
/// never sent for a change that rolled back, nor a change committed without its event.
/// </summary>
public sealed class OutboxEvent
{
    /// <summary>Its stable id; the webhook id is <c>evt_</c> and this number.</summary>
    public long Id { get; set; }

    /// <summary>One of <see cref="EventTypes"/>.</summary>
    public required string Type { get; set; }

    /// <summary>The member it concerns; deliveries to one subscriber keep each member's events in this order.</summary>
    public long? MemberId { get; set; }

    public int? ChannelId { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>
    /// For events made of a ledger row: the row, from which the data is rendered when sent. The
    /// ledger is append-only, so the data is the same whenever it is read, and the hot path writes
    /// no JSON.
    /// </summary>
    public long? LedgerId { get; set; }

    /// <summary>For a card.used event: its use's row, from which the data is rendered when sent, as for <see cref="LedgerId"/>.</summary>
    public long? UseId { get; set; }

    /// <summary>The data as JSON, for every event not made of a ledger or use row.</summary>
    public string? Data { get; set; }
}

/// <summary>The event types a subscriber can ask for.</summary>
public static class EventTypes
{
    public const string PointsChanged = "points.changed";
    public const string LevelChanged = "level.changed";
    public const string MemberCreated = "member.created";
    public const string CardSold = "card.sold";
    public const string CardUsed = "card.used";
    public const string CardUseCancelled = "card.use_cancelled";
    public const string CardRefunded = "card.refunded";

    /// <summary>An operator's change, as its audit line records it.</summary>
    public const string OperatorChanged = "operator.changed";

    public static readonly string[] All =
        [PointsChanged, LevelChanged, MemberCreated, CardSold, CardUsed, CardUseCancelled, CardRefunded, OperatorChanged];
}
