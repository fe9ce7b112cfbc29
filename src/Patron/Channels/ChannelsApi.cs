using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Compat;
using Patron.Console;
using Patron.Data;

namespace Patron.Channels;

/// <summary>A channel as operators see it: never its keys. RateLimit null: the service's default; Expiry null: the catalog's.</summary>
public sealed record ChannelResponse(string Name, string Cipher, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt,
    bool BillNumIsKey = false, int MaxUseAgeDays = Channel.DefaultMaxAgeDays, int MaxSaleAgeDays = Channel.DefaultMaxAgeDays,
    ChannelRateLimit? RateLimit = null, int PendingDays = 0, string? Expiry = null);

/// <summary>A channel's own rate limit; both null (<c>{}</c>) returns the channel to the service's default.</summary>
public sealed record ChannelRateLimit(int? PerSecond, int? Burst);

public sealed record ChannelRequest(string Name, string? Cipher, IReadOnlyList<string>? Scopes);

/// <summary>
/// Each field left out (null) stays as it is. Expiry is PointsExpiry's text ("none", "days:365",
/// "months:12:monthEnd"); an empty one returns the channel to the catalog's.
/// </summary>
public sealed record ChannelEditRequest(string? Cipher, IReadOnlyList<string>? Scopes, bool? BillNumIsKey = null,
    int? MaxUseAgeDays = null, int? MaxSaleAgeDays = null, ChannelRateLimit? RateLimit = null, int? PendingDays = null, string? Expiry = null);

/// <summary>New keys, shown in this answer only: Patron keeps a hash of the API key.</summary>
public sealed record ChannelKeys(string Name, string ApiKey, string DesKey);

public static class ChannelsApi
{
    public static RouteGroupBuilder MapChannels(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/channels").WithTags("Channels");
        group.MapGet("/", ListAsync);
        group.MapPost("/", CreateAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapPut("/{name}", EditAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapPost("/{name}/rotate", RotateAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        return group;
    }

    public static async Task<Ok<List<ChannelResponse>>> ListAsync(PatronDb db, CancellationToken ct) =>
        TypedResults.Ok((await db.Channels.AsNoTracking().OrderBy(c => c.Name).ToListAsync(ct)).Select(ToResponse).ToList());

    public static async Task<Results<Created<ChannelKeys>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        ChannelRequest request, PatronDb db, ChannelDirectory channels, ChannelSecrets secrets, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var errors = Validate(request.Cipher, request.Scopes);
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 64 || StoredText.HasNul(request.Name))
            errors["name"] = ["required, at most 64 characters"];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var name = request.Name.Trim(); // stored trimmed, so compared trimmed: an untrimmed twin was a unique violation (500)
        if (await db.Channels.AnyAsync(c => c.Name == name, ct))
            return Problems.Conflict($"There is already a channel {name}.");

        var keys = NewKeys(name);
        var now = clock.GetUtcNow();
        var channel = new Channel
        {
            Name = keys.Name, ApiKeyHash = ChannelAuth.HashApiKey(keys.ApiKey), DesKey = secrets.Protect(keys.DesKey),
            Cipher = request.Cipher ?? OpenApiCipher.Des, Scopes = string.Join(' ', request.Scopes ?? []), CreatedAt = now,
        };
        db.Channels.Add(channel);
        db.Record(user, now, "channel.create", "channel", channel.Name, null, ToResponse(channel));
        await db.SaveChangesAsync(ct);
        channels.Invalidate();
        return TypedResults.Created($"/api/v1/channels/{channel.Name}", keys);
    }

    public static async Task<Results<Ok<ChannelResponse>, ValidationProblem, ProblemHttpResult>> EditAsync(
        string name, ChannelEditRequest request, PatronDb db, ChannelDirectory channels, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var errors = Validate(request.Cipher, request.Scopes);
        foreach (var (field, problem) in ChannelSettings.Check(request.MaxUseAgeDays, request.MaxSaleAgeDays,
            request.RateLimit?.PerSecond, request.RateLimit?.Burst, request.PendingDays))
            errors[field] = [problem];
        string? expiry = null;
        if (request.Expiry is not null && !ChannelSettings.TryParseExpiry(request.Expiry, out expiry))
            errors["expiry"] = [ChannelSettings.ExpiryHint];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var channel = StoredText.HasNul(name) ? null : await db.Channels.SingleOrDefaultAsync(c => c.Name == name, ct);
        if (channel is null)
            return Problems.NotFound($"There is no channel {name}.");
        var before = ToResponse(channel);
        channel.Cipher = request.Cipher ?? channel.Cipher;
        channel.Scopes = request.Scopes is null ? channel.Scopes : string.Join(' ', request.Scopes);
        channel.BillNumIsKey = request.BillNumIsKey ?? channel.BillNumIsKey;
        channel.MaxUseAgeDays = request.MaxUseAgeDays ?? channel.MaxUseAgeDays;
        channel.MaxSaleAgeDays = request.MaxSaleAgeDays ?? channel.MaxSaleAgeDays;
        if (request.RateLimit is { } limit)
            (channel.RatePerSecond, channel.RateBurst) = (limit.PerSecond, limit.Burst);
        channel.PendingDays = request.PendingDays ?? channel.PendingDays;
        if (request.Expiry is not null)
            channel.Expiry = expiry;
        var after = ToResponse(channel);
        db.Record(user, clock.GetUtcNow(), "channel.edit", "channel", name, before, after);
        await db.SaveChangesAsync(ct);
        channels.Invalidate();
        return TypedResults.Ok(after);
    }

    /// <summary>Replaces both keys at once; the old ones stop working immediately.</summary>
    public static async Task<Results<Ok<ChannelKeys>, ProblemHttpResult>> RotateAsync(
        string name, PatronDb db, ChannelDirectory channels, ChannelSecrets secrets, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var channel = StoredText.HasNul(name) ? null : await db.Channels.SingleOrDefaultAsync(c => c.Name == name, ct);
        if (channel is null)
            return Problems.NotFound($"There is no channel {name}.");
        var keys = NewKeys(name);
        (channel.ApiKeyHash, channel.DesKey) = (ChannelAuth.HashApiKey(keys.ApiKey), secrets.Protect(keys.DesKey));
        db.Record(user, clock.GetUtcNow(), "channel.rotate", "channel", name, null, new { rotated = "apiKey, desKey" });
        await db.SaveChangesAsync(ct);
        channels.Invalidate();
        return TypedResults.Ok(keys);
    }

    private static ChannelKeys NewKeys(string name) => new(name, "pk_" + Secrets.NewKey(), Secrets.NewKey(16));

    public static ChannelResponse ToResponse(Channel c) =>
        new(c.Name, c.Cipher, c.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), c.CreatedAt, c.BillNumIsKey, c.MaxUseAgeDays,
            c.MaxSaleAgeDays, c.RatePerSecond is null && c.RateBurst is null ? null : new ChannelRateLimit(c.RatePerSecond, c.RateBurst),
            c.PendingDays, c.Expiry);

    private static Dictionary<string, string[]> Validate(string? cipher, IReadOnlyList<string>? scopes)
    {
        var errors = new Dictionary<string, string[]>();
        if (cipher is not (null or OpenApiCipher.Des or OpenApiCipher.AesGcm))
            errors["cipher"] = ["des-ecb or aes-gcm"];
        // A blank entry (a form's empty value binds as null) is unknown too, not "none found".
        if (scopes?.Where(s => s is null || !Scopes.All.Contains(s)).Select(s => s ?? "").ToList() is [var unknown, ..])
            errors["scopes"] = [$"unknown scope '{unknown}'; known: {string.Join(", ", Scopes.All)}"];
        return errors;
    }
}
