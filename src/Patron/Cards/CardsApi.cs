using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Console;
using Patron.Data;

namespace Patron.Cards;

public sealed record CardProductRequest(string Id, string Name, int TotalUsedNum, int CycleDays, int CycleNum);

/// <summary>A card's definition; <c>refund</c> is its refund policy (<see cref="RefundPolicies"/>), unchanged when left out of an edit.</summary>
public sealed record CardRequest(string Id, string Name, decimal Price, int ValidDays, bool OnSale, IReadOnlyList<CardProductRequest> Products,
    string? Refund = null);

/// <summary>Cards and their products as operators define them; sold cards keep the terms they were sold with.</summary>
public static class CardsApi
{
    /// <summary>What numeric(18,2) holds: a larger price was stored by SQLite and a 500 on PostgreSQL.</summary>
    private const decimal MaxPrice = 9_999_999_999_999_999.99m;

    public static RouteGroupBuilder MapCards(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/").WithTags("Cards");
        group.MapGet("/cards", ListCardsAsync);
        group.MapPost("/cards", CreateAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapPut("/cards/{id}", EditAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapPost("/cards/{id}/off-sale", TakeOffSaleAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapGet("/members/{id:long}/cards", MemberCardsAsync);
        return group;
    }

    public static async Task<Ok<List<CardView>>> ListCardsAsync(PatronDb db, CancellationToken ct)
    {
        var cards = await db.Cards.AsNoTracking().Include(c => c.Products).OrderBy(c => c.Id).ToListAsync(ct);
        return TypedResults.Ok(cards.Select(c => c.ToView()).ToList());
    }

    public static async Task<Results<Created<CardView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CardRequest request, PatronDb db, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        if (Validate(request) is { Count: > 0 } errors)
            return TypedResults.ValidationProblem(errors);
        var id = request.Id.Trim(); // stored trimmed, so compared trimmed: an untrimmed twin was a unique violation (500)
        if (await db.Cards.AnyAsync(c => c.Id == id, ct))
            return Problems.Conflict($"There is already a card {id}.");
        var card = db.Cards.Add(new Card { Id = id, Name = "" }).Entity;
        Apply(card, request);
        db.Record(user, clock.GetUtcNow(), "card.create", "card", card.Id, null, card.ToView());
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/cards/{card.Id}", card.ToView());
    }

    /// <summary>Edits a card; products are added or changed, never removed (their ids stay meaningful on sold cards).</summary>
    public static async Task<Results<Ok<CardView>, ValidationProblem, ProblemHttpResult>> EditAsync(
        string id, CardRequest request, PatronDb db, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        if (Validate(request with { Id = id }) is { Count: > 0 } errors)
            return TypedResults.ValidationProblem(errors);
        var card = await db.Cards.Include(c => c.Products).SingleOrDefaultAsync(c => c.Id == id, ct);
        if (card is null)
            return Problems.NotFound($"There is no card {id}.");
        var before = card.ToView();
        Apply(card, request);
        db.Record(user, clock.GetUtcNow(), "card.edit", "card", id, before, card.ToView());
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(card.ToView());
    }

    public static async Task<Results<Ok<CardView>, ProblemHttpResult>> TakeOffSaleAsync(
        string id, PatronDb db, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var card = StoredText.HasNul(id) ? null : await db.Cards.Include(c => c.Products).SingleOrDefaultAsync(c => c.Id == id, ct);
        if (card is null)
            return Problems.NotFound($"There is no card {id}.");
        var before = card.ToView();
        card.OnSale = false;
        db.Record(user, clock.GetUtcNow(), "card.off-sale", "card", id, before, card.ToView());
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(card.ToView());
    }

    public static async Task<Results<Ok<List<MemberCardView>>, ProblemHttpResult>> MemberCardsAsync(long id, PatronDb db, TimeProvider clock,
        CancellationToken ct)
    {
        if (!await db.Members.AnyAsync(m => m.Id == id, ct))
            return Problems.NotFound($"There is no member {id}.");
        return TypedResults.Ok(await CardQueries.MemberCardsAsync(db, id, clock.GetUtcNow(), ct));
    }

    private static void Apply(Card card, CardRequest request)
    {
        (card.Name, card.Price, card.ValidDays, card.OnSale) = (request.Name.Trim(), request.Price, request.ValidDays, request.OnSale);
        card.RefundPolicy = request.Refund ?? card.RefundPolicy;
        foreach (var p in request.Products)
        {
            var product = card.Products.SingleOrDefault(x => x.Id == p.Id.Trim());
            if (product is null)
                card.Products.Add(product = new CardProduct { CardId = card.Id, Id = p.Id.Trim(), Name = "" });
            (product.Name, product.TotalUsedNum, product.CycleDays, product.CycleNum) = (p.Name.Trim(), p.TotalUsedNum, p.CycleDays, p.CycleNum);
        }
    }

    public static Dictionary<string, string[]> Validate(CardRequest r)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(r.Id) || r.Id.Length > 32 || StoredText.HasNul(r.Id))
            errors["id"] = ["required, at most 32 characters"];
        if (string.IsNullOrWhiteSpace(r.Name) || r.Name.Length > 100 || StoredText.HasNul(r.Name))
            errors["name"] = ["required, at most 100 characters"];
        if (r.Price is < 0 or > MaxPrice || decimal.Round(r.Price, 2) != r.Price)
            errors["price"] = [$"0 to {MaxPrice}, at most 2 decimals"];
        if (r.ValidDays is < 1 or > 36600)
            errors["validDays"] = ["1 to 36600"];
        if (r.Refund is not null && !RefundPolicies.All.Contains(r.Refund))
            errors["refund"] = [$"one of {string.Join(", ", RefundPolicies.All)}"];
        if (r.Products is not { Count: > 0 })
            errors["products"] = ["at least one product"];
        foreach (var (p, i) in (r.Products ?? []).Select((p, i) => (p, i)))
        {
            if (p is null) // "products":[null] reached p.Id: a 500
            {
                errors[$"products[{i}]"] = ["a product, not null"];
                continue;
            }
            if (string.IsNullOrWhiteSpace(p.Id) || p.Id.Length > 32 || StoredText.HasNul(p.Id) || r.Products!.Take(i).Any(o => o?.Id?.Trim() == p.Id.Trim()))
                errors[$"products[{i}].id"] = ["required, unique, at most 32 characters"];
            if (string.IsNullOrWhiteSpace(p.Name) || p.Name.Length > 100 || StoredText.HasNul(p.Name))
                errors[$"products[{i}].name"] = ["required, at most 100 characters"];
            if (p.TotalUsedNum < 1 || p.CycleDays < 1 || p.CycleNum < 1)
                errors[$"products[{i}]"] = ["totalUsedNum, cycleDays and cycleNum are 1 or more"];
        }
        return errors;
    }
}
