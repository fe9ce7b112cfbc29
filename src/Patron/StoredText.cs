namespace Patron;

/// <summary>
/// PostgreSQL text cannot hold a NUL character: one that reached a query or a write failed there
/// (22021), a 500. Operators' text with one is refused, or matches nothing, on both backends.
/// </summary>
public static class StoredText
{
    public static bool HasNul(params string?[] values) => values.Any(v => v?.Contains('\0') == true);
}
