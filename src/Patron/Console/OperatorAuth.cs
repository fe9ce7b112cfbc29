using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Patron.Data;

namespace Patron.Console;

public static class OperatorAuth
{
    public const string Policy = "operator";
    public const string BasicScheme = "Basic";

    public static IServiceCollection AddPatronOperators(this IServiceCollection services)
    {
        services.AddSingleton<IPasswordHasher<Operator>, PasswordHasher<Operator>>();
        services.AddAuthentication(BasicScheme)
            .AddScheme<AuthenticationSchemeOptions, BasicAuthHandler>(BasicScheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policy, p => p.AddAuthenticationSchemes(BasicScheme).RequireAuthenticatedUser());
        return services;
    }
}

/// <summary>HTTP Basic against the operators table, until the console brings cookie sign-in.</summary>
public sealed class BasicAuthHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    PatronDb db, IPasswordHasher<Operator> hasher)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header)
            || !header.Scheme.Equals(OperatorAuth.BasicScheme, StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
            return AuthenticateResult.NoResult();

        string user, password;
        try
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
            var colon = pair.IndexOf(':');
            if (colon <= 0)
                return AuthenticateResult.Fail("malformed credentials");
            (user, password) = (pair[..colon], pair[(colon + 1)..]);
        }
        catch (FormatException)
        {
            return AuthenticateResult.Fail("malformed credentials");
        }

        var op = await db.Operators.FindAsync([user], Context.RequestAborted);
        if (op is null || hasher.VerifyHashedPassword(op, op.PasswordHash, password) == PasswordVerificationResult.Failed)
            return AuthenticateResult.Fail("wrong user or password");

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, op.UserName), new Claim(ClaimTypes.Role, op.Role)], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Basic realm=\"Patron\", charset=\"UTF-8\"";
        return base.HandleChallengeAsync(properties);
    }
}
