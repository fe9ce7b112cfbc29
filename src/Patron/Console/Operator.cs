namespace Patron.Console;

/// <summary>A person who runs Patron: signs in to the console and the native API.</summary>
public sealed class Operator
{
    public required string UserName { get; set; }

    /// <summary>ASP.NET Core PasswordHasher output; the password itself is never stored.</summary>
    public required string PasswordHash { get; set; }

    public required string Role { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
