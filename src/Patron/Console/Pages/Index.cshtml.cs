using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Data;

namespace Patron.Console.Pages;

public sealed class DashboardModel(PatronDb db, TimeProvider clock) : PageModel
{
    public DashboardResponse Stats { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct) => Stats = await Dashboard.LoadAsync(db, clock, ct);
}
