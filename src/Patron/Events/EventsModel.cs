using Microsoft.EntityFrameworkCore;

namespace Patron.Events;

/// <summary>The outbox's and the webhooks' tables.</summary>
public static class EventsModel
{
    public static void Configure(ModelBuilder model)
    {
        model.Entity<OutboxEvent>(e =>
        {
            // On SQLite a trigger makes each new event's deliveries (migration DeliveriesWithEvents). EF documents
            // SQLite's RETURNING as failing on tables with AFTER triggers (efcore#29811), so it inserts
            // there without it; this is off the hot path, whose stores write their own SQL.
            e.ToTable("outbox_events", t => t.UseSqlReturningClause(false));
            e.Property(x => x.Type).HasMaxLength(40);
        });
        model.Entity<Webhook>(e =>
        {
            e.ToTable("webhooks");
            e.Property(x => x.Name).HasMaxLength(64);
            e.HasIndex(x => x.Name).IsUnique();
            e.Property(x => x.Url).HasMaxLength(2000);
            e.Property(x => x.Events).HasMaxLength(1000);
            e.Property(x => x.Secret).HasMaxLength(1024);
            e.Property(x => x.PreviousSecret).HasMaxLength(1024);
            e.Property(x => x.DisabledReason).HasMaxLength(200);
        });
        model.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.Property(x => x.State).HasMaxLength(1);
            e.Property(x => x.LastError).HasMaxLength(500);
            // What the dispatcher claims: pending deliveries oldest first, so that a claim walks past few
            // rows however long the backlog (a member's later deliveries wait behind its first) …
            e.HasIndex(x => x.Id).HasFilter("state = 'P'").HasDatabaseName("ix_webhook_deliveries_pending");
            // … each only when no earlier one of the same subscriber and member is still pending.
            e.HasIndex(x => new { x.WebhookId, x.MemberId, x.Id }).HasFilter("state = 'P'").HasDatabaseName("ix_webhook_deliveries_pending_member");
            e.HasIndex(x => new { x.WebhookId, x.Id });
            // One delivery of an event to a subscriber, however many dispatchers make them.
            e.HasIndex(x => new { x.EventId, x.WebhookId }).IsUnique();
        });
        model.Entity<WebhookAttempt>(e =>
        {
            e.ToTable("webhook_attempts");
            e.Property(x => x.Answer).HasMaxLength(1000);
            e.Property(x => x.Error).HasMaxLength(500);
            e.HasIndex(x => new { x.DeliveryId, x.Id });
        });
    }
}
