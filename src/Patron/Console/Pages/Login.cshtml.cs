using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Patron.Console.Pages;

public sealed class LoginModel(OperatorSignIn signIn) : PageModel
{
    public string? Error { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string user, string password, CancellationToken ct)
    {
        var outcome = await signIn.CheckAsync(user ?? "", password ?? "", ct);
        if (outcome.Failure is { } failure)
        {
            Error = failure.Message.StartsWith("too many", StringComparison.Ordinal) ? "Too many failed sign-ins; try again later." : "Wrong user or password.";
            return Page();
        }
        await HttpContext.SignInAsync(OperatorAuth.CookieScheme, OperatorAuth.Principal(outcome.Value!, OperatorAuth.CookieScheme));
        // Only a local return address: an open redirect would let a link send a signed-in operator anywhere.
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/console");
    }
}
