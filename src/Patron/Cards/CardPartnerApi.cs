using Microsoft.Extensions.Options;
using Patron.Channels;
using Patron.Compat;
using Patron.Data;
using Patron.Members;

namespace Patron.Cards;

/// <summary>
/// The seed's CRM open API for times-cards: <c>POST {prefix}/openapi/v1/{method}</c>, each call an
/// envelope with an encrypted param (<see cref="OpenApiGate"/>), answered <c>{code, msg, data}</c>.
/// </summary>
public static class CardPartnerApi
{
    public static IEndpointRouteBuilder MapCardPartnerApi(this IEndpointRouteBuilder routes)
    {
        var prefix = routes.ServiceProvider.GetRequiredService<IOptions<OpenApiOptions>>().Value.Prefix.TrimEnd('/');
        foreach (var root in prefix.Length > 0 ? ["/openapi/v1", prefix + "/openapi/v1"] : new[] { "/openapi/v1" })
        {
            var group = routes.MapGroup(root).WithTags("Open API (seed)").DisableAntiforgery();
            group.MapPost("/sendMncardForSale", SellAsync);
            group.MapPost("/useMncard", UseAsync);
            group.MapPost("/cancelUseMncard", CancelAsync);
            group.MapPost("/refundMncardForSale", RefundAsync);
            group.MapPost("/queryMncardByMember", QueryAsync);
            group.MapMemberPartnerMethods();
            group.MapPost("/{method}", UnknownAsync);
        }
        return routes;
    }

    public static async Task<OpenApiResult> SellAsync(HttpContext http, OpenApiGate gate, CardSaleWrites sales, BusinessZoneCache zones,
        TimeProvider clock, CancellationToken ct)
    {
        var call = await gate.OpenAsync(http, Scopes.CardSale, ct);
        if (call.Failure is { } refused)
            return refused;
        var (channel, p) = call.Value!;
        var cardInfoId = p.String("cardInfoId", 32);
        var saleTimeText = p.String("saleTime", 32);
        var saleUser = p.String("saleUser", 64, required: false);
        var saleOrgCode = p.String("saleOrgCode", 64, required: false);
        var payAmt = p.Decimal("payAmt", maxScale: 2);
        var saleNo = p.String("saleNo", 64);
        var memberId = p.String("memberId", 32);
        var num = (int)p.Long("num", 1, SaleRequest.MaxNum, whenMissing: 1);
        if (p.Error is { } invalid)
            return invalid;
        if (payAmt is < 0 or > MaxAmount)
            return Failure.Invalid("payAmt", $"must be a decimal number from 0 to {MaxAmount}");
        if (!CardCalendar.TryParseLocal(saleTimeText, await zones.GetAsync(ct), out var saleTime))
            return Failure.Invalid("saleTime", $"expected {CardCalendar.LocalFormat}");
        if (CardTimes.TooFarAhead("saleTime", saleTime, clock.GetUtcNow().ToUnixTimeMilliseconds()) is { } ahead)
            return ahead;

        var request = new SaleRequest(cardInfoId, saleTime, NullIfEmpty(saleUser), NullIfEmpty(saleOrgCode), payAmt!.Value, saleNo, memberId, num);
        var sold = await sales.SellAsync(channel, request, ct);
        if (sold.Failure is { Code: ErrorCode.Internal } unreadable)
            throw new InvalidDataException(unreadable.Message); // logged with a trace id and answered 5000, this request alone
        return sold.Failure is { } failure ? failure : OpenApiResult.OkJson(sold.Value!);
    }

    public static async Task<OpenApiResult> UseAsync(HttpContext http, OpenApiGate gate, CardUseWrites uses, BusinessZoneCache zones,
        TimeProvider clock, CancellationToken ct)
    {
        var call = await gate.OpenAsync(http, Scopes.CardUse, ct);
        if (call.Failure is { } refused)
            return refused;
        var (channel, p) = call.Value!;
        var memberCardId = p.String("memberCardId", 32, required: false);
        var cardCode = p.String("cardCode", 32, required: false);
        var cardProductId = p.String("cardProductId", 32);
        var posid = p.String("posid", 64);
        var useNo = p.String("useNo", 64);
        var useTimeText = p.String("useTime", 32, required: false);
        if (p.Error is { } invalid)
            return invalid;
        if (memberCardId.Length == 0 && cardCode.Length == 0)
            return Failure.Invalid("memberCardId", "memberCardId or cardCode is required");

        long? useTime = null;
        if (useTimeText.Length > 0)
        {
            if (!CardCalendar.TryParseLocal(useTimeText, await zones.GetAsync(ct), out var parsed))
                return Failure.Invalid("useTime", $"expected {CardCalendar.LocalFormat}");
            // Offline POS send uses late, which is normal (bounded by the decider); a use from the future is not.
            if (CardTimes.TooFarAhead("useTime", parsed, clock.GetUtcNow().ToUnixTimeMilliseconds()) is { } ahead)
                return ahead;
            useTime = parsed;
        }

        var request = new UseRequest(memberCardId.Length > 0 ? memberCardId : cardCode, cardProductId, posid, useNo, useTime);
        var used = await uses.UseAsync(channel, request, ct);
        return used.Failure is { } failure ? failure : OpenApiResult.Ok(used.Value!, CardJson.Default.UsageEntryView);
    }

    public static async Task<OpenApiResult> CancelAsync(HttpContext http, OpenApiGate gate, CardCancelWrites cancels, CancellationToken ct)
    {
        var call = await gate.OpenAsync(http, Scopes.CardUse, ct);
        if (call.Failure is { } refused)
            return refused;
        var p = call.Value!.Param;
        var useNo = p.String("useNo", 64);
        if (p.Error is { } invalid)
            return invalid;
        var cancelled = await cancels.CancelAsync(call.Value.Channel, useNo, ct);
        return cancelled.Failure is { } failure ? failure : OpenApiResult.Ok(cancelled.Value!, CardJson.Default.UsageEntryView);
    }

    public static async Task<OpenApiResult> RefundAsync(HttpContext http, OpenApiGate gate, CardRefundWrites refunds, CancellationToken ct)
    {
        var call = await gate.OpenAsync(http, Scopes.CardRefund, ct);
        if (call.Failure is { } refused)
            return refused;
        var p = call.Value!.Param;
        var saleNo = p.String("saleNo", 64);
        var refundAmt = p.Decimal("refundAmt", maxScale: 2, required: false);
        if (p.Error is { } invalid)
            return invalid;
        if (refundAmt is < 0 or > MaxAmount)
            return Failure.Invalid("refundAmt", $"must be a decimal number from 0 to {MaxAmount}");
        var refunded = await refunds.RefundAsync(call.Value.Channel, saleNo, refundAmt, ct);
        return refunded.Failure is { } failure ? failure : OpenApiResult.Ok(refunded.Value!, CardJson.Default.RefundView);
    }

    public static async Task<OpenApiResult> QueryAsync(HttpContext http, OpenApiGate gate, PatronDb db, TimeProvider clock,
        CancellationToken ct)
    {
        var call = await gate.OpenAsync(http, Scopes.CardQuery, ct);
        if (call.Failure is { } refused)
            return refused;
        var p = call.Value!.Param;
        var memberId = p.String("memberId", 32);
        if (p.Error is { } invalid)
            return invalid;
        var member = await MemberLookup.FindAsync(db, memberId, ct);
        if (member is null)
            return new Failure(ErrorCode.MemberNotFound, $"member {memberId} not found");
        // A channel sees what it sold, not other partners' sales (their prices, saleNos, cards).
        var cards = await CardQueries.MemberCardsAsync(db, member.Id, clock.GetUtcNow(), ct, soldBy: call.Value.Channel.Id);
        return OpenApiResult.Ok(cards, CardJson.Default.ListMemberCardView);
    }

    /// <summary>A method the API does not have: refused once the envelope's channel and clock are checked.</summary>
    public static async Task<OpenApiResult> UnknownAsync(HttpContext http, OpenApiGate gate, CancellationToken ct) =>
        (await gate.OpenAsync(http, scope: null, ct)).Failure!;

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    /// <summary>The most a numeric(18, 2) column holds; more was a PostgreSQL overflow, a 500.</summary>
    internal const decimal MaxAmount = 9_999_999_999_999_999.99m;
}
