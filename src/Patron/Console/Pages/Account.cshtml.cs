using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Data;

namespace Patron.Console.Pages;

public sealed class AccountModel(PatronDb db, IPasswordHasher<Operator> hasher, TimeProvider clock) : PageModel
{
    public List<OperatorResponse> Operators { get; private set; } = [];
    public string? Token { get; private set; }
    public string? Error { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        if (User.IsInRole(Roles.Admin))
            Operators = (await NativeApi.ListOperatorsAsync(db, clock, ct)).Value!;
    }

    // Any operator may replace their own token: the admins-only rule is for changes to the chain's data.
    public async Task<IActionResult> OnPostTokenAsync(CancellationToken ct)
    {
        Token = (await NativeApi.NewTokenAsync(db, User, clock, ct)).Value!.Token;
        await OnGetAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostOperatorAsync(string user, string password, string role, CancellationToken ct)
    {
        Error = ConsoleErrors.Describe((await NativeApi.CreateOperatorAsync(new CreateOperatorRequest(user ?? "", password ?? "", role ?? ""), db, hasher, User, clock, ct)).Result);
        db.ChangeTracker.Clear();
        await OnGetAsync(ct);
        return Page();
    }
}
