using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Cards;
using Patron.Data;

namespace Patron.Console.Pages.Cards;

public sealed class CardEditModel(PatronDb db, TimeProvider clock) : PageModel
{
    [BindProperty]
    public CardForm Form { get; set; } = new();

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        var card = (await CardsApi.ListCardsAsync(db, ct)).Value!.SingleOrDefault(c => c.Id == id);
        if (card is null)
            return NotFound();
        Form = CardForm.From(card);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken ct)
    {
        var result = (await CardsApi.EditAsync(id, Form.ToRequest() with { Id = id }, db, User, clock, ct)).Result;
        if (result is Ok<CardView>)
            return Redirect("/console/cards");
        (Form.IsNew, Form.Id, Form.Error) = (false, id, ConsoleErrors.Describe(result));
        Form.WithRows();
        return Page();
    }
}
