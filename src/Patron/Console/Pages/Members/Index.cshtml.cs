using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Data;
using Patron.Members;

namespace Patron.Console.Pages.Members;

public sealed class MembersModel(PatronDb db, TimeProvider clock) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    public List<MemberResponse> Found { get; private set; } = [];
    public string? Error { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => Found = (await MembersApi.SearchAsync(Q, 50, db, clock, ct)).Value!;

    public async Task<IActionResult> OnPostAsync(string? code, string? name, string? phone, CancellationToken ct)
    {
        var request = new CreateMemberRequest(null, string.IsNullOrWhiteSpace(code) ? null : code, name, phone);
        var result = (await MembersApi.CreateAsync(request, db, User, clock, ct)).Result;
        if (result is Created<MemberResponse> created)
            return Redirect($"/console/members/{created.Value!.Id}");
        Error = ConsoleErrors.Describe(result);
        await OnGetAsync(ct);
        return Page();
    }
}
