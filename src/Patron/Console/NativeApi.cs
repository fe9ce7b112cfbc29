using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Channels;
using Patron.Data;

namespace Patron.Console;

public sealed record AntiforgeryResponse(string HeaderName, string Token);

public sealed record OperatorResponse(string User, string Role, DateTimeOffset CreatedAt, bool Locked, bool HasApiToken);

public sealed record CreateOperatorRequest(string User, string Password, string Role);

/// <summary>Shown once: the token itself is never stored.</summary>
public sealed record ApiTokenResponse(string Token);

public sealed record AuditRow(long Id, DateTimeOffset At, string Actor, string Action, string Entity, string EntityId, string? Before, string? After);

public sealed record AuditPage(IReadOnlyList<AuditRow> Items, long? NextBefore);

/// <summary>The /api/v1 group, and the routes about operators themselves.</summary>
public static class NativeApi
{
    public static RouteGroupBuilder MapNativeApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1")
            .RequireAuthorization(OperatorAuth.ReadPolicy)
            .AddEndpointFilter(OperatorAuth.RequireAntiforgeryForCookies);
        api.MapGet("/antiforgery", GetAntiforgery).WithTags("Operators");
        api.MapGet("/operators", ListOperatorsAsync).WithTags("Operators").RequireAuthorization(OperatorAuth.WritePolicy);
        api.MapPost("/operators", CreateOperatorAsync).WithTags("Operators").RequireAuthorization(OperatorAuth.WritePolicy);
        api.MapPost("/operators/me/token", NewTokenAsync).WithTags("Operators");
        api.MapGet("/audit", ListAuditAsync).WithTags("Audit");
        return api;
    }

    /// <summary>
    /// A JSON body declared in a charset .NET cannot decode (charset=bogus, utf-7) made the
    /// framework's body reader throw, a 500; the native API answers 415 instead. Goes after
    /// authorization, so that a caller who may not call learns nothing more.
    /// </summary>
    public static IApplicationBuilder UseNativeApiCharsets(this IApplicationBuilder app) => app.UseWhen(
        http => http.Request.Path.StartsWithSegments("/api/v1") && !ReadableCharset(http.Request.ContentType),
        branch => branch.Run(http => TypedResults.Problem(title: "Unsupported Media Type", statusCode: 415,
            detail: "Send JSON in UTF-8 (Content-Type: application/json).").ExecuteAsync(http)));

    private static bool ReadableCharset(string? contentType)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var type) || !type.Charset.HasValue
            || type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
            return true;
        var charset = type.Charset;
        // As the framework's reader does: quotes are optional.
        var name = charset.Length > 2 && charset[0] == '"' && charset[^1] == '"' ? charset.Substring(1, charset.Length - 2) : charset.ToString();
        try
        {
            _ = System.Text.Encoding.GetEncoding(name);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return false;
        }
    }

    public static Ok<AntiforgeryResponse> GetAntiforgery(HttpContext http, IAntiforgery antiforgery)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        return TypedResults.Ok(new AntiforgeryResponse(OperatorAuth.AntiforgeryHeader, tokens.RequestToken!));
    }

    public static async Task<Ok<List<OperatorResponse>>> ListOperatorsAsync(PatronDb db, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var ops = await db.Operators.AsNoTracking().OrderBy(o => o.UserName).ToListAsync(ct);
        return TypedResults.Ok(ops.Select(o => new OperatorResponse(o.UserName, o.Role, o.CreatedAt, o.LockedUntil > now, o.ApiTokenHash is not null)).ToList());
    }

    public static async Task<Results<Created<OperatorResponse>, ValidationProblem, ProblemHttpResult>> CreateOperatorAsync(
        CreateOperatorRequest request, PatronDb db, Microsoft.AspNetCore.Identity.IPasswordHasher<Operator> hasher,
        System.Security.Claims.ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.User) || request.User.Length > 64 || StoredText.HasNul(request.User))
            errors["user"] = ["required, at most 64 characters"];
        if (request.Password is not { Length: >= 8 and <= 128 })
            errors["password"] = ["8 to 128 characters"];
        if (request.Role is not (Roles.Admin or Roles.Viewer))
            errors["role"] = ["admin or viewer"];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        if (await db.Operators.AnyAsync(o => o.UserName == request.User, ct))
            return Problems.Conflict($"There is already an operator {request.User}.");

        var now = clock.GetUtcNow();
        var op = new Operator { UserName = request.User, PasswordHash = "", Role = request.Role, CreatedAt = now };
        op.PasswordHash = hasher.HashPassword(op, request.Password);
        db.Operators.Add(op);
        var response = new OperatorResponse(op.UserName, op.Role, now, false, false);
        db.Record(user, now, "operator.create", "operator", op.UserName, null, response);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/operators/{op.UserName}", response);
    }

    /// <summary>Replaces the caller's API token; the new one is shown in this answer only.</summary>
    public static async Task<Ok<ApiTokenResponse>> NewTokenAsync(PatronDb db, System.Security.Claims.ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var token = OperatorTokenHandler.Prefix + Secrets.NewKey();
        var op = await db.Operators.SingleAsync(o => o.UserName == user.Identity!.Name, ct);
        op.ApiTokenHash = ChannelAuth.HashApiKey(token);
        db.Record(user, clock.GetUtcNow(), "operator.token", "operator", op.UserName, null, new { rotated = true });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new ApiTokenResponse(token));
    }

    public static async Task<Ok<AuditPage>> ListAuditAsync(string? entity, string? entityId, long? before, int? limit, PatronDb db, CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? 50, 1, 200);
        if (StoredText.HasNul(entity, entityId))
            return TypedResults.Ok(new AuditPage([], null));
        var query = db.AuditLog.AsNoTracking();
        if (entity is not null)
            query = query.Where(a => a.Entity == entity);
        if (entityId is not null)
            query = query.Where(a => a.EntityId == entityId);
        if (before is { } cursor)
            query = query.Where(a => a.Id < cursor);
        var rows = await query.OrderByDescending(a => a.Id).Take(size + 1).ToListAsync(ct);
        var page = rows.Take(size).Select(a => new AuditRow(a.Id, a.At, a.Actor, a.Action, a.Entity, a.EntityId, a.Before, a.After)).ToList();
        return TypedResults.Ok(new AuditPage(page, rows.Count > size ? page[^1].Id : null));
    }
}

public static class Problems
{
    public static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(title: "Not found", detail: detail, statusCode: 404);

    public static ProblemHttpResult Conflict(string detail) => TypedResults.Problem(title: "Conflict", detail: detail, statusCode: 409);

    public static ProblemHttpResult Invalid(string detail) => TypedResults.Problem(title: "Invalid request", detail: detail, statusCode: 400);

    /// <summary>A business failure of a shared rule (e.g. not enough points), with its SPEC §7 code.</summary>
    public static ProblemHttpResult From(Failure failure) => TypedResults.Problem(
        title: failure.Code.ToString(), detail: failure.Message, statusCode: failure.Code switch
        {
            ErrorCode.MemberNotFound => 404,
            ErrorCode.IdempotencyKeyReused => 409,
            _ => 422,
        },
        extensions: new Dictionary<string, object?> { ["code"] = (int)failure.Code });
}

public static class Secrets
{
    private const string Alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    /// <summary>A random key of 32 characters (about 186 bits).</summary>
    public static string NewKey(int length = 32) =>
        string.Create(length, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
                span[i] = Alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(Alphabet.Length)];
        });
}
