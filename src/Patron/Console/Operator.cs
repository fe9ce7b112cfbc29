namespace Patron.Console;

public static class Roles
{
    public const string Admin = "admin";
    public const string Viewer = "viewer";
}

/// <summary>A person who runs Patron: signs in to the console and the native API.</summary>
public sealed class Operator
{
    public required string UserName { get; set; }

    /// <summary>ASP.NET Core PasswordHasher output; the password itself is never stored.</summary>
    public required string PasswordHash { get; set; }

    public required string Role { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Failed sign-ins since the last success; at the limit the account locks for a while.</summary>
    public int FailedSignIns { get; set; }

    public DateTimeOffset? LockedUntil { get; set; }

    /// <summary>SHA-256 (hex) of the operator's API token, for scripts calling /api/v1; shown once, never stored.</summary>
    public string? ApiTokenHash { get; set; }
}

/// <summary>Who changed what, when: one row per operator change, with the state before and after.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public required string Entity { get; set; }
    public required string EntityId { get; set; }
    public string? Before { get; set; }
    public string? After { get; set; }
}
