using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Patron.Data;
using Patron.Events;

namespace Patron.Console;

/// <summary>The audit log: every operator change, with who, when, and the state before and after.</summary>
public static class Audit
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Adds the entry to the unit of work, so it commits or rolls back with the change itself.</summary>
    public static void Record(this PatronDb db, ClaimsPrincipal user, DateTimeOffset at, string action, string entity, string id,
        object? before, object? after) =>
        db.Record(Entry(user.Actor(), at, action, entity, id, before, after));

    /// <summary>Adds the line and its outbox event to the unit of work.</summary>
    public static void Record(this PatronDb db, AuditEntry entry)
    {
        db.AuditLog.Add(entry);
        db.OutboxEvents.Add(OutboxEvents.OfAudit(entry));
    }

    /// <summary>An audit row, for a write that stores it in its own transaction.</summary>
    public static AuditEntry Entry(string actor, DateTimeOffset at, string action, string entity, string id, object? before, object? after) => new()
    {
        At = at, Actor = actor, Action = action, Entity = entity, EntityId = id,
        Before = before is null ? null : JsonSerializer.Serialize(before, Json),
        After = after is null ? null : JsonSerializer.Serialize(after, Json),
    };
}
