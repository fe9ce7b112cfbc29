using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Console;
using Patron.Data;

namespace Patron.Cards;

/// <summary>An operator's refund; <c>refundAmt</c> left out refunds what the card's refund policy allows.</summary>
public sealed record StaffRefundRequest(decimal? RefundAmt);

/// <summary>The business day (yyyy-MM-dd, in the zone the card was sold in) a card is to end on.</summary>
public sealed record ExtendRequest(string? EndDate);

/// <summary>What a refund of the sale would be now: the policy, the uses, and the most it allows (null: refused, see Refusal).</summary>
public sealed record RefundQuote(string SaleNo, string Channel, string Status, decimal PayAmt, decimal? RefundAmt, string Policy,
    int Used, int Total, decimal? Allowed, string? Refusal);

/// <summary>
/// What staff do to a member's cards: refund a sale, cancel a use, extend a card. Refunds and
/// cancels take the partners' write road (same deciders, same kept answers), attributed to the
/// operator and audited in their own transaction.
/// </summary>
public static class CardActionsApi
{
    public static RouteGroupBuilder MapCardActions(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/").WithTags("Card actions");
        group.MapGet("/sales/{saleNo}/refund", QuoteAsync);
        group.MapPost("/sales/{saleNo}/refund", RefundAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapPost("/uses/{useNo}/cancel", CancelAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapPost("/member-cards/{id}/extend", ExtendAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        return group;
    }

    public static async Task<Results<Ok<RefundQuote>, ProblemHttpResult>> QuoteAsync(string saleNo, string? channel, PatronDb db, CancellationToken ct)
    {
        var (sale, problem) = await FindSaleAsync(db, saleNo, channel, ct);
        if (sale is null)
            return problem!;
        return TypedResults.Ok((await QuotesAsync(db, [sale], ct))[sale.Id]);
    }

    /// <summary>Each sale's refund as its policy would allow it now, by sale id.</summary>
    public static async Task<Dictionary<long, RefundQuote>> QuotesAsync(PatronDb db, IReadOnlyCollection<CardSale> sales, CancellationToken ct)
    {
        var ids = sales.Select(s => s.Id).ToList();
        var entries = await db.UsageEntries.AsNoTracking()
            .Join(db.MemberCards.Where(c => ids.Contains(c.SaleId)), e => e.MemberCardId, c => c.Id, (e, c) => new { c.SaleId, e.HasUsedNum, e.TotalUsedNum })
            .ToListAsync(ct);
        var cardIds = sales.Select(s => s.CardInfoId).Distinct().ToList();
        var policies = await db.Cards.AsNoTracking().Where(c => cardIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.RefundPolicy, ct);
        return sales.ToDictionary(s => s.Id, s =>
        {
            var usage = SaleUsage.Of(entries.Where(e => e.SaleId == s.Id).Select(e => (e.HasUsedNum, e.TotalUsedNum)));
            var policy = policies.GetValueOrDefault(s.CardInfoId, RefundPolicies.Full);
            var allowed = RefundAllowance.Of(policy, s.PayAmt, usage);
            return new RefundQuote(s.SaleNo, s.ChannelName, CardViews.Status(s.Status), s.PayAmt, s.RefundAmt, policy, usage.Used, usage.Total,
                allowed.Failure is null ? allowed.Value : null, allowed.Failure?.Message);
        });
    }

    public static async Task<Results<Ok<RefundView>, ValidationProblem, ProblemHttpResult>> RefundAsync(
        string saleNo, string? channel, StaffRefundRequest? request, PatronDb db, CardRefundWrites refunds, ClaimsPrincipal user, CancellationToken ct)
    {
        var amount = request?.RefundAmt;
        if (amount is { } a && (a < 0 || a > CardPartnerApi.MaxAmount || decimal.Round(a, 2) != a))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["refundAmt"] = ["0 or more, at most 2 decimals"] });
        var (sale, problem) = await FindSaleAsync(db, saleNo, channel, ct);
        if (sale is null)
            return problem!;
        var refunded = await refunds.RefundAsync(sale.ChannelId, sale.SaleNo, amount, user.Actor(), ct);
        return refunded.Failure is { } failure ? Problem(failure) : TypedResults.Ok(refunded.Value!);
    }

    public static async Task<Results<Ok<UsageEntryView>, ProblemHttpResult>> CancelAsync(
        string useNo, string? channel, PatronDb db, CardCancelWrites cancels, ClaimsPrincipal user, CancellationToken ct)
    {
        if (StoredText.HasNul(useNo, channel))
            return Problems.NotFound($"There is no use {useNo}.");
        var channelIds = channel is null ? null : await db.Channels.AsNoTracking().Where(c => c.Name == channel).Select(c => c.Id).ToListAsync(ct);
        var uses = await db.CardUses.AsNoTracking().Where(u => u.UseNo == useNo && (channelIds == null || channelIds.Contains(u.ChannelId)))
            .Select(u => u.ChannelId).Take(2).ToListAsync(ct);
        if (uses.Count == 0)
            return Problems.NotFound($"There is no use {useNo}.");
        if (uses.Count > 1)
            return Problems.Invalid($"Several channels used {useNo}; add ?channel=NAME.");
        var cancelled = await cancels.CancelAsync(uses[0], useNo, user.Actor(), ct);
        return cancelled.Failure is { } failure ? Problem(failure) : TypedResults.Ok(cancelled.Value!);
    }

    public static async Task<Results<Ok<MemberCardView>, ValidationProblem, ProblemHttpResult>> ExtendAsync(
        string id, ExtendRequest? request, PatronDb db, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        if (!CardExtension.TryParseDay(request?.EndDate, out var endDate))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["endDate"] = ["a date, yyyy-MM-dd"] });
        if (StoredText.HasNul(id))
            return Problems.NotFound($"There is no member card {id}.");
        var extended = await CardExtension.ExtendAsync(db, id, endDate, user, clock.GetUtcNow(), ct);
        if (extended is not { } outcome)
            return Problems.NotFound($"There is no member card {id}.");
        if (outcome.Failure is { } failure)
            return Problem(failure);
        db.ChangeTracker.Clear();
        var card = await db.MemberCards.AsNoTracking().Include(c => c.Entries).SingleAsync(c => c.Id == id, ct);
        return TypedResults.Ok((await CardQueries.ViewsAsync(db, [card], clock.GetUtcNow(), ct))[0]);
    }

    /// <summary>A saleNo is unique per channel: name the channel when two channels used the same one.</summary>
    public static async Task<(CardSale? Sale, ProblemHttpResult? Problem)> FindSaleAsync(PatronDb db, string saleNo, string? channel, CancellationToken ct)
    {
        if (StoredText.HasNul(saleNo, channel))
            return (null, Problems.NotFound($"There is no sale {saleNo}."));
        var sales = await db.CardSales.AsNoTracking()
            .Where(s => s.SaleNo == saleNo && (channel == null || s.ChannelName == channel)).Take(2).ToListAsync(ct);
        return sales.Count switch
        {
            0 => (null, Problems.NotFound($"There is no sale {saleNo}.")),
            > 1 => (null, Problems.Invalid($"Several channels used {saleNo}; add ?channel=NAME.")),
            _ => (sales[0], null),
        };
    }

    /// <summary>A write's refusal as a problem, with its SPEC §7 code: 404 not found, 400 a bad amount or date, 409 a refund for another amount.</summary>
    public static ProblemHttpResult Problem(Failure failure)
    {
        var (status, title) = failure.Code switch
        {
            ErrorCode.MemberCardNotFound => (404, "Not found"),
            ErrorCode.InvalidParameter => (400, "Invalid request"),
            ErrorCode.SaleNoReused => (409, "Conflict"),
            _ => (422, failure.Code.ToString()),
        };
        return TypedResults.Problem(title: title, detail: failure.Message, statusCode: status,
            extensions: new Dictionary<string, object?> { ["code"] = (int)failure.Code });
    }
}
