namespace Patron.Events.Webhooks;

/// <summary>
/// What makes a subscription valid, wherever it is made (the console, the catalog): a name of
/// letters, digits, '-' and '_'; an absolute http or https url; event types each one of
/// <see cref="EventTypes.All"/> or <c>*</c>.
/// </summary>
public static class WebhookRules
{
    public const string AllTypes = "*";
    public const int MaxName = 64, MaxUrl = 2000;

    /// <summary>The error in a name, or null when it is one.</summary>
    public static string? NameError(string? name) =>
        name is { Length: >= 1 and <= MaxName } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? null
            : $"a name is 1 to {MaxName} letters, digits, '-' or '_'";

    /// <summary>The error in a url, or null when it is one a delivery can be posted to.</summary>
    public static string? UrlError(string? url) =>
        url is { Length: > 0 and <= MaxUrl } && !url.Any(char.IsControl) && !url.Any(char.IsWhiteSpace)
            && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0
            ? null
            : $"the url must be an absolute http:// or https:// address of at most {MaxUrl} characters";

    /// <summary>The types as stored (space-separated; <c>*</c> alone when every type is wanted), or an error.</summary>
    public static (string? Stored, string? Error) Events(IEnumerable<string?>? types)
    {
        var wanted = (types ?? []).Select(t => t?.Trim() ?? "").Where(t => t.Length > 0).Distinct().ToList();
        if (wanted.Count == 0)
            return (null, "choose at least one event type");
        var unknown = wanted.Where(t => t != AllTypes && !EventTypes.All.Contains(t)).ToList();
        if (unknown.Count > 0)
            return (null, $"unknown event type {string.Join(", ", unknown.Take(5).Select(t => t.Length > 40 ? t[..40] + "…" : t))}; known: {string.Join(", ", EventTypes.All)} or {AllTypes}");
        return wanted.Contains(AllTypes) ? (AllTypes, null) : (string.Join(' ', EventTypes.All.Where(wanted.Contains)), null);
    }
}
