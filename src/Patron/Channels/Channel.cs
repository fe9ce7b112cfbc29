namespace Patron.Channels;

/// <summary>A partner system calling Patron: a POS, a ticketing system, a mini-program.</summary>
public sealed class Channel
{
    public int Id { get; set; }
    public required string Name { get; set; }

    /// <summary>SHA-256 (hex) of the bearer API key; the key itself is never stored.</summary>
    public required string ApiKeyHash { get; set; }

    /// <summary>The open API's symmetric key (DES uses its first 8 bytes), encrypted: read it with <see cref="ChannelSecrets"/>.</summary>
    public required string DesKey { get; set; }

    public required string Cipher { get; set; }

    /// <summary>Space-separated scopes such as "points.add card.sale".</summary>
    public required string Scopes { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public bool HasScope(string scope) => Scopes.Split(' ').Contains(scope);
}
