using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Console;
using Patron.Data;

namespace Patron.Cards;

/// <summary>The native read API over cards, sales and member cards.</summary>
public static class CardsApi
{
    public static RouteGroupBuilder MapCards(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1").RequireAuthorization(OperatorAuth.Policy).WithTags("Cards");
        group.MapGet("/cards", ListCardsAsync);
        group.MapGet("/members/{id:long}/cards", MemberCardsAsync);
        group.MapGet("/sales/{saleNo}", GetSaleAsync);
        return group;
    }

    public static async Task<Ok<List<CardView>>> ListCardsAsync(PatronDb db, CancellationToken ct)
    {
        var cards = await db.Cards.AsNoTracking().Include(c => c.Products).OrderBy(c => c.Id).ToListAsync(ct);
        return TypedResults.Ok(cards.Select(c => c.ToView()).ToList());
    }

    public static async Task<Results<Ok<List<MemberCardView>>, ProblemHttpResult>> MemberCardsAsync(long id, PatronDb db, CancellationToken ct)
    {
        if (!await db.Members.AnyAsync(m => m.Id == id, ct))
            return TypedResults.Problem(title: "Member not found", detail: $"There is no member {id}.", statusCode: StatusCodes.Status404NotFound);
        return TypedResults.Ok(await CardQueries.MemberCardsAsync(db, id, ct));
    }

    /// <summary>A saleNo is unique per channel; name the channel when two channels used the same one.</summary>
    public static async Task<Results<Ok<SaleView>, ProblemHttpResult>> GetSaleAsync(string saleNo, string? channel, PatronDb db, CancellationToken ct)
    {
        var sales = await db.CardSales.AsNoTracking()
            .Where(s => s.SaleNo == saleNo && (channel == null || s.ChannelName == channel)).Take(2).ToListAsync(ct);
        if (sales.Count == 0)
            return TypedResults.Problem(title: "Sale not found", detail: $"There is no sale {saleNo}.", statusCode: StatusCodes.Status404NotFound);
        if (sales.Count > 1)
            return TypedResults.Problem(title: "Ambiguous saleNo", detail: $"Several channels used {saleNo}; add ?channel=NAME.", statusCode: StatusCodes.Status400BadRequest);
        var sale = sales[0];
        var cards = await db.MemberCards.AsNoTracking().Include(c => c.Entries).Where(c => c.SaleId == sale.Id).OrderBy(c => c.Id).ToListAsync(ct);
        return TypedResults.Ok(sale.ToView(await CardQueries.ViewsAsync(db, cards, ct)));
    }
}
