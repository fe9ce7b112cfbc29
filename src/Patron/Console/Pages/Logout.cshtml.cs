using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Patron.Console.Pages;

public sealed class LogoutModel : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/console");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(OperatorAuth.CookieScheme);
        return LocalRedirect("/console/login");
    }
}
