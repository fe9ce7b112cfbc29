using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Data;
using Patron.Levels;

namespace Patron.Console.Pages;

public sealed class LevelsModel(PatronDb db, TimeProvider clock) : PageModel
{
    public List<LevelResponse> Levels { get; private set; } = [];
    public string? Error { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => Levels = (await LevelsApi.ListAsync(db, ct)).Value!;

    public async Task<IActionResult> OnPostAsync(int id, string name, long threshold, CancellationToken ct)
    {
        Error = ConsoleErrors.Describe((await LevelsApi.PutAsync(id, new LevelRequest(name ?? "", threshold), db, User, clock, ct)).Result);
        if (Error is null)
            return Redirect("/console/levels");
        db.ChangeTracker.Clear();
        await OnGetAsync(ct);
        return Page();
    }
}
