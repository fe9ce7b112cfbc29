using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Patron.Channels;
using Patron.Data;

namespace Patron.Console;

/// <summary>
/// Operators sign in to the console with a cookie, or call /api/v1 with a personal API token
/// (<c>Authorization: Bearer pat_…</c>). Viewers read; admins also change.
/// </summary>
public static class OperatorAuth
{
    public const string ReadPolicy = "operator";
    public const string WritePolicy = "admin";
    public const string Scheme = "Operator";
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string TokenScheme = "OperatorToken";
    public const string AntiforgeryHeader = "X-CSRF-TOKEN";

    public static IServiceCollection AddPatronOperators(this IServiceCollection services)
    {
        services.AddSingleton<IPasswordHasher<Operator>, PasswordHasher<Operator>>();
        services.AddScoped<OperatorSignIn>();
        services.AddAntiforgery(o => o.HeaderName = AntiforgeryHeader);
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, null, o => o.ForwardDefaultSelector = http =>
                http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? TokenScheme : CookieScheme)
            .AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = "patron.operator";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                o.LoginPath = "/console/login";
                o.AccessDeniedPath = "/console/denied";
                // The API answers with status codes; only pages redirect to the sign-in form.
                o.Events.OnRedirectToLogin = ctx => IsApi(ctx.Request) ? Status(ctx.Response, 401) : Redirect(ctx);
                o.Events.OnRedirectToAccessDenied = ctx => IsApi(ctx.Request) ? Status(ctx.Response, 403) : Redirect(ctx);
            })
            .AddScheme<AuthenticationSchemeOptions, OperatorTokenHandler>(TokenScheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ReadPolicy, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin, Roles.Viewer))
            .AddPolicy(WritePolicy, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin));
        return services;
    }

    public static string Actor(this ClaimsPrincipal user) => $"operator:{user.Identity?.Name}";

    public static ClaimsPrincipal Principal(Operator op, string scheme) => Principal(op.UserName, op.Role, scheme);

    public static ClaimsPrincipal Principal(string userName, string role, string scheme) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, userName), new Claim(ClaimTypes.Role, role)], scheme));

    /// <summary>
    /// A browser's cookie rides along on any request, so a cookie-authenticated change must also
    /// carry the anti-forgery token (header X-CSRF-TOKEN); a token-authenticated script needs none.
    /// </summary>
    public static async ValueTask<object?> RequireAntiforgeryForCookies(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method)
            && http.User.Identity?.AuthenticationType == CookieScheme)
        {
            var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
            if (!await antiforgery.IsRequestValidAsync(http))
                return TypedResults.Problem(title: "Anti-forgery token missing or invalid",
                    detail: $"Send the token of GET /api/v1/antiforgery in the {AntiforgeryHeader} header.", statusCode: 400);
        }
        return await next(context);
    }

    private static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments("/api");

    private static Task Status(HttpResponse response, int status)
    {
        response.StatusCode = status;
        return Task.CompletedTask;
    }

    private static Task Redirect(RedirectContext<CookieAuthenticationOptions> ctx)
    {
        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }
}

/// <summary>Personal API tokens, stored as SHA-256 like channel keys.</summary>
public sealed class OperatorTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string Prefix = "pat_";

    private sealed record TokenHolder(string UserName, string Role);

    /// <summary>Every /api/v1 call by a script runs it: compiled (<see cref="CompiledQuery{TQuery}"/>).</summary>
    private static readonly CompiledQuery<Func<PatronDb, string, CancellationToken, Task<TokenHolder?>>> ByTokenHash =
        new(() => EF.CompileAsyncQuery((PatronDb db, string hash, CancellationToken ct) =>
            db.Operators.Where(o => o.ApiTokenHash == hash).Select(o => new TokenHolder(o.UserName, o.Role)).SingleOrDefault()));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.NoResult();
        var token = header[7..].Trim();
        if (!token.StartsWith(Prefix, StringComparison.Ordinal))
            return AuthenticateResult.NoResult(); // a partner's channel key: not for this scheme, and no database work
        if (token.Length > 128)
            return AuthenticateResult.Fail("not an operator token");
        var hash = ChannelAuth.HashApiKey(token);
        var db = Context.RequestServices.GetRequiredService<PatronDb>();
        var op = await ByTokenHash.For(db)(db, hash, Context.RequestAborted);
        return op is null
            ? AuthenticateResult.Fail("unknown token")
            : AuthenticateResult.Success(new AuthenticationTicket(OperatorAuth.Principal(op.UserName, op.Role, Scheme.Name), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return base.HandleChallengeAsync(properties);
    }
}

/// <summary>Password sign-in with a lockout after repeated failures, counted in the database.</summary>
public sealed class OperatorSignIn(PatronDb db, IPasswordHasher<Operator> hasher, TimeProvider clock)
{
    public const int MaxFailures = 5;
    public static readonly TimeSpan LockoutTime = TimeSpan.FromMinutes(15);

    public async Task<Outcome<Operator>> CheckAsync(string user, string password, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (StoredText.HasNul(user))
            return new Failure(ErrorCode.InvalidParameter, "wrong user or password");
        var op = await db.Operators.SingleOrDefaultAsync(o => o.UserName == user, ct);
        if (op is null)
            return new Failure(ErrorCode.InvalidParameter, "wrong user or password");
        if (op.LockedUntil > now)
            return new Failure(ErrorCode.InvalidParameter, "too many failed sign-ins: the account is locked for a while");

        var verdict = hasher.VerifyHashedPassword(op, op.PasswordHash, password);
        if (verdict == PasswordVerificationResult.Failed)
        {
            // One conditional write, so that failures from several instances all count.
            await db.Operators.Where(o => o.UserName == user).ExecuteUpdateAsync(s => s
                .SetProperty(o => o.FailedSignIns, o => o.FailedSignIns + 1)
                .SetProperty(o => o.LockedUntil, o => o.FailedSignIns + 1 >= MaxFailures ? now + LockoutTime : o.LockedUntil), ct);
            return new Failure(ErrorCode.InvalidParameter, "wrong user or password");
        }
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
            op.PasswordHash = hasher.HashPassword(op, password);
        (op.FailedSignIns, op.LockedUntil) = (0, null);
        await db.SaveChangesAsync(ct);
        return op;
    }
}
