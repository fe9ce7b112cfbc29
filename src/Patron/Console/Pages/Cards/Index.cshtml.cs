using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Cards;
using Patron.Data;

namespace Patron.Console.Pages.Cards;

public sealed class CardsModel(PatronDb db, TimeProvider clock) : PageModel
{
    public List<CardView> Cards { get; private set; } = [];

    [BindProperty]
    public CardForm Form { get; set; } = new();

    public async Task OnGetAsync(CancellationToken ct)
    {
        Cards = (await CardsApi.ListCardsAsync(db, ct)).Value!;
        Form.WithRows();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        Form.Error = ConsoleErrors.Describe((await CardsApi.CreateAsync(Form.ToRequest(), db, User, clock, ct)).Result);
        if (Form.Error is null)
            return Redirect("/console/cards");
        db.ChangeTracker.Clear();
        await OnGetAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostOffSaleAsync(string id, CancellationToken ct)
    {
        await CardsApi.TakeOffSaleAsync(id, db, User, clock, ct);
        return Redirect("/console/cards");
    }
}
