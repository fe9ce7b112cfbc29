using System.Globalization;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Patron.Console;

/// <summary>The marker type of the console's shared string resources (SharedResource.zh-CN.resx).</summary>
public sealed class SharedResource;

public static class ConsoleSetup
{
    public static readonly CultureInfo[] Cultures = [new("zh-CN"), new("en")];

    public static IServiceCollection AddPatronConsole(this IServiceCollection services)
    {
        services.AddLocalization();
        // Chinese text as text, not as &#x...; entities: smaller pages, readable source.
        services.Configure<Microsoft.Extensions.WebEncoders.WebEncoderOptions>(o =>
            o.TextEncoderSettings = new System.Text.Encodings.Web.TextEncoderSettings(System.Text.Unicode.UnicodeRanges.All));
        services.Configure<RequestLocalizationOptions>(o =>
        {
            // Chinese unless the operator picked English (a cookie set by the language switch).
            o.DefaultRequestCulture = new RequestCulture("zh-CN");
            o.SupportedCultures = o.SupportedUICultures = Cultures;
            o.RequestCultureProviders = [new QueryStringRequestCultureProvider(), new CookieRequestCultureProvider()];
        });
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Console/Pages";
            o.Conventions.AuthorizeFolder("/", OperatorAuth.ReadPolicy);
            o.Conventions.AllowAnonymousToPage("/Login");
        }).AddViewLocalization().AddMvcOptions(o =>
        {
            o.Filters.Add<AdminsChangeFilter>();
            o.Filters.Add<NoHandlerFilter>();
            // No form of the console names fields jQuery-style (a[b][c]); that parser threw on a form key with an unclosed '[': a 500.
            o.ValueProviderFactories.RemoveType<JQueryFormValueProviderFactory>();
            o.ModelBinderProviders.Insert(0, new WholeNumberBinderProvider());
        });
        services.AddOpenApi();
        return services;
    }

    public static void MapConsole(this WebApplication app)
    {
        app.MapRazorPages();
        app.MapGet("/", () => Results.Redirect("/console")).ExcludeFromDescription();
        app.MapGet("/console/language", SetLanguage).ExcludeFromDescription();
    }

    /// <summary>Remembers the operator's language in the standard culture cookie, for a year.</summary>
    private static IResult SetLanguage(string culture, string? returnUrl, HttpResponse response)
    {
        if (Cultures.Any(c => c.Name == culture))
            response.Cookies.Append(CookieRequestCultureProvider.DefaultCookieName,
                CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)),
                new CookieOptions { Expires = DateTimeOffset.UtcNow.AddYears(1), IsEssential = true, SameSite = SameSiteMode.Lax });
        return Results.LocalRedirect(IsLocal(returnUrl) ? returnUrl! : "/console");
    }

    // As LocalRedirect itself checks, control characters included (browsers drop some, "/\t/host" is "//host"): one it refused threw, a 500.
    private static bool IsLocal(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) && !url.Any(char.IsControl);
}

/// <summary>
/// Viewers read; every change made through a console form needs the admin role. One filter for
/// all pages, so that a new form cannot forget the check. A token of one's own is not chain data.
/// </summary>
public sealed class AdminsChangeFilter : Microsoft.AspNetCore.Mvc.Filters.IAsyncPageFilter
{
    private static readonly string[] OwnPages = ["/Login", "/Logout", "/Account"];

    public Task OnPageHandlerSelectionAsync(Microsoft.AspNetCore.Mvc.Filters.PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(Microsoft.AspNetCore.Mvc.Filters.PageHandlerExecutingContext context,
        Microsoft.AspNetCore.Mvc.Filters.PageHandlerExecutionDelegate next)
    {
        var http = context.HttpContext;
        var ownAccountAction = OwnPages.Contains(context.ActionDescriptor.ViewEnginePath)
            && (context.ActionDescriptor.ViewEnginePath != "/Account" || context.HandlerMethod?.Name == "Token");
        if (!HttpMethods.IsGet(http.Request.Method) && !ownAccountAction && !http.User.IsInRole(Roles.Admin))
        {
            context.Result = new Microsoft.AspNetCore.Mvc.ForbidResult();
            return;
        }
        await next();
    }
}

/// <summary>
/// A post to a page that has no handler for it (the dashboard, a member's page without ?handler=)
/// rendered the page without loading its model: a 500. It is a 405 instead.
/// </summary>
public sealed class NoHandlerFilter : Microsoft.AspNetCore.Mvc.Filters.IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(Microsoft.AspNetCore.Mvc.Filters.PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(Microsoft.AspNetCore.Mvc.Filters.PageHandlerExecutingContext context,
        Microsoft.AspNetCore.Mvc.Filters.PageHandlerExecutionDelegate next)
    {
        var method = context.HttpContext.Request.Method;
        if (context.HandlerMethod is null && !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            context.Result = new Microsoft.AspNetCore.Mvc.StatusCodeResult(StatusCodes.Status405MethodNotAllowed);
            return;
        }
        await next();
    }
}
