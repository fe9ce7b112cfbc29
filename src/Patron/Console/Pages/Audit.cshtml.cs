using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Data;

namespace Patron.Console.Pages;

public sealed class AuditModel(PatronDb db) : PageModel
{
    public AuditPage Entries { get; private set; } = null!;

    public async Task OnGetAsync(long? before, CancellationToken ct) =>
        Entries = (await NativeApi.ListAuditAsync(null, null, before, 100, db, ct)).Value!;
}
