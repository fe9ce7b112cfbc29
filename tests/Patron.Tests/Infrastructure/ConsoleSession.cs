using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Patron.Tests.Infrastructure;

/// <summary>A browser-like operator session over HTTP: a cookie jar, the sign-in form, anti-forgery tokens.</summary>
public sealed partial class ConsoleSession(PatronApp app)
{
    public HttpClient Http { get; } = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex FormToken();

    /// <summary>The anti-forgery token of the form on a page.</summary>
    public async Task<string> FormTokenAsync(string page)
    {
        var html = await Http.GetStringAsync(page);
        return FormToken().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : throw new InvalidOperationException($"no form token on {page}");
    }

    public async Task<HttpResponseMessage> PostFormAsync(string page, Dictionary<string, string> fields, bool withToken = true)
    {
        if (withToken)
            fields["__RequestVerificationToken"] = await FormTokenAsync(page);
        return await Http.PostAsync(page, new FormUrlEncodedContent(fields));
    }

    public Task<HttpResponseMessage> SignInAsync(string user, string password) =>
        PostFormAsync("/console/login", new() { ["user"] = user, ["password"] = password });
}
