using System.Security.Cryptography;
using System.Text;

namespace Patron.Channels;

public static class Scopes
{
    public const string PointsAdd = "points.add";
    public const string CardSale = "card.sale";
    public const string CardUse = "card.use";
    public const string CardRefund = "card.refund";
    public const string CardQuery = "card.query";
    public const string LevelSet = "level.set";
    public const string MemberWrite = "member.write";
    public const string MemberRead = "member.read";

    public static readonly string[] All = [PointsAdd, LevelSet, CardSale, CardUse, CardRefund, CardQuery, MemberWrite, MemberRead];
}

public static class ChannelAuth
{
    private const int MaxApiKeyLength = 256;

    /// <summary>API keys are stored as SHA-256 only: they are long random bearer tokens, not passwords.</summary>
    public static string HashApiKey(string apiKey) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    /// <summary>The channel whose API key is in <c>Authorization: Bearer …</c>, if it holds <paramref name="scope"/>.</summary>
    public static async Task<Outcome<Channel>> BearerAsync(HttpRequest request, ChannelDirectory channels, string scope, CancellationToken ct)
    {
        var header = request.Headers.Authorization;
        var value = header.Count == 1 ? header[0] ?? "" : "";
        if (!value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return new Failure(ErrorCode.UnknownChannel, "Authorization: Bearer <apiKey> is required");
        var apiKey = value[7..].Trim();
        if (apiKey.Length is 0 or > MaxApiKeyLength)
            return new Failure(ErrorCode.UnknownChannel, "unknown API key");

        var hash = HashApiKey(apiKey);
        var channel = await channels.ByApiKeyHashAsync(hash, ct);
        if (channel is null)
            return new Failure(ErrorCode.UnknownChannel, "unknown API key");
        return channel.HasScope(scope)
            ? channel
            : new Failure(ErrorCode.ScopeNotGranted, $"channel {channel.Name} does not have the scope {scope}");
    }
}
