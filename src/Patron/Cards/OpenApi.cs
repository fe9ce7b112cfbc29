using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Patron.Channels;
using Patron.Compat;
using Patron.Data;
using Patron.Members;

namespace Patron.Cards;

/// <summary>The CRM open API of the seed: POST {prefix}/openapi/v1/{method} with an encrypted param.</summary>
public static class OpenApi
{
    private delegate Task<OpenApiResult> Handler(HttpContext http, Channel channel, WireFields param, CancellationToken ct);

    private static readonly Dictionary<string, (string Scope, Handler Run)> Methods = new(StringComparer.Ordinal)
    {
        ["sendMncardForSale"] = (Scopes.CardSale, SellAsync),
        ["useMncard"] = (Scopes.CardUse, UseAsync),
        ["cancelUseMncard"] = (Scopes.CardUse, CancelAsync),
        ["refundMncardForSale"] = (Scopes.CardRefund, RefundAsync),
        ["queryMncardByMember"] = (Scopes.CardQuery, QueryAsync),
    };

    public static IEndpointRouteBuilder MapPartnerOpenApi(this IEndpointRouteBuilder routes)
    {
        var prefix = routes.ServiceProvider.GetRequiredService<IOptions<OpenApiOptions>>().Value.Prefix.TrimEnd('/');
        routes.MapPost("/openapi/v1/{method}", HandleAsync).WithTags("Open API (seed)").DisableAntiforgery();
        if (prefix.Length > 0)
            routes.MapPost(prefix + "/openapi/v1/{method}", HandleAsync).WithTags("Open API (seed)").DisableAntiforgery();
        return routes;
    }

    public static async Task<OpenApiResult> HandleAsync(string method, HttpContext http, ChannelDirectory channels, IOptions<OpenApiOptions> options,
        ChannelSecrets secrets, ChannelRateLimiter limiter, TimeProvider clock, CancellationToken ct)
    {
        var body = await WireBody.ReadAsync(http.Request, "envelope", ct);
        if (body.Failure is { } malformed)
            return malformed;
        var envelope = new WireFields(body.Value!);
        var channelName = envelope.String("channel", 64);
        var timestampText = envelope.String("timestamp", 20);
        var param = envelope.String("param", WireBody.MaxBytes);
        if (envelope.Error is { } invalid)
            return invalid;

        var channel = await channels.ByNameAsync(channelName, ct);
        if (channel is null)
            return new Failure(ErrorCode.UnknownChannel, $"unknown channel {channelName}");
        if (!long.TryParse(timestampText, out var timestamp))
            return Failure.Invalid("timestamp", "epoch milliseconds");
        var skew = Math.Abs(clock.GetUtcNow().ToUnixTimeMilliseconds() - timestamp);
        if (skew > options.Value.TimestampWindowSeconds * 1000L)
            return new Failure(ErrorCode.TimestampOutsideWindow, $"timestamp is more than {options.Value.TimestampWindowSeconds} s from the server clock");
        if (!Methods.TryGetValue(method, out var target))
            return Failure.Invalid("method", $"unknown method {method}");
        if (!channel.HasScope(target.Scope))
            return new Failure(ErrorCode.ScopeNotGranted, $"channel {channel.Name} does not have the scope {target.Scope}");

        var plaintext = OpenApiCipher.Decrypt(channel.Cipher, secrets.DesKey(channel), param, channelName, timestampText);
        JsonObject? json = null;
        try
        {
            var parsed = plaintext is null ? null : JsonNode.Parse(plaintext, new JsonNodeOptions { PropertyNameCaseInsensitive = true },
                new JsonDocumentOptions { MaxDepth = 16 }) as JsonObject;
            WireBody.ReadFully(parsed); // a name given twice, or a bad string, is refused here rather than inside a method
            json = parsed;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
        }
        if (json is null)
            return new Failure(ErrorCode.CannotDecrypt, "param cannot be decrypted with the channel's key");
        // Counted only once the key has proved the caller, so that nobody else can spend a channel's allowance.
        if (limiter.TryAcquire(channel, http.Response) is { } limited)
            return limited;

        return await target.Run(http, channel, new WireFields(json), ct);
    }

    private static async Task<OpenApiResult> SellAsync(HttpContext http, Channel channel, WireFields p, CancellationToken ct)
    {
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
        var services = http.RequestServices;
        var zone = await services.GetRequiredService<BusinessZoneCache>().GetAsync(ct);
        if (!CardCalendar.TryParseLocal(saleTimeText, zone, out var saleTime))
            return Failure.Invalid("saleTime", $"expected {CardCalendar.LocalFormat}");

        var request = new SaleRequest(cardInfoId, saleTime, NullIfEmpty(saleUser), NullIfEmpty(saleOrgCode), payAmt!.Value, saleNo, memberId, num);
        var sold = await services.GetRequiredService<CardSaleWrites>().SellAsync(channel, request, ct);
        if (sold.Failure is { Code: ErrorCode.Internal } unreadable)
            throw new InvalidDataException(unreadable.Message); // logged with a trace id and answered 5000, this request alone
        return sold.Failure is { } failure ? failure : OpenApiResult.OkJson(sold.Value!);
    }

    private static async Task<OpenApiResult> UseAsync(HttpContext http, Channel channel, WireFields p, CancellationToken ct)
    {
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

        var services = http.RequestServices;
        long? useTime = null;
        if (useTimeText.Length > 0)
        {
            var zone = await services.GetRequiredService<BusinessZoneCache>().GetAsync(ct);
            if (!CardCalendar.TryParseLocal(useTimeText, zone, out var parsed))
                return Failure.Invalid("useTime", $"expected {CardCalendar.LocalFormat}");
            // Offline POS send uses late, which is normal; a use from the future is not.
            if (parsed > services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds() + 5 * 60_000)
                return Failure.Invalid("useTime", "more than 5 minutes in the future");
            useTime = parsed;
        }

        var request = new UseRequest(memberCardId.Length > 0 ? memberCardId : cardCode, cardProductId, posid, useNo, useTime);
        var used = await services.GetRequiredService<CardUseWrites>().UseAsync(channel, request, ct);
        return used.Failure is { } failure ? failure : OpenApiResult.Ok(used.Value!, CardJson.Default.UsageEntryView);
    }

    private static async Task<OpenApiResult> CancelAsync(HttpContext http, Channel channel, WireFields p, CancellationToken ct)
    {
        var useNo = p.String("useNo", 64);
        if (p.Error is { } invalid)
            return invalid;
        var cancelled = await http.RequestServices.GetRequiredService<CardCancelWrites>().CancelAsync(channel, useNo, ct);
        return cancelled.Failure is { } failure ? failure : OpenApiResult.Ok(cancelled.Value!, CardJson.Default.UsageEntryView);
    }

    private static async Task<OpenApiResult> RefundAsync(HttpContext http, Channel channel, WireFields p, CancellationToken ct)
    {
        var saleNo = p.String("saleNo", 64);
        var refundAmt = p.Decimal("refundAmt", maxScale: 2, required: false);
        if (p.Error is { } invalid)
            return invalid;
        if (refundAmt < 0)
            return Failure.Invalid("refundAmt", "must be a non-negative decimal number");
        var refunded = await http.RequestServices.GetRequiredService<CardRefundWrites>().RefundAsync(channel, saleNo, refundAmt, ct);
        return refunded.Failure is { } failure ? failure : OpenApiResult.Ok(refunded.Value!, CardJson.Default.RefundView);
    }

    private static async Task<OpenApiResult> QueryAsync(HttpContext http, Channel channel, WireFields p, CancellationToken ct)
    {
        var memberId = p.String("memberId", 32);
        if (p.Error is { } invalid)
            return invalid;
        var db = http.RequestServices.GetRequiredService<PatronDb>();
        var member = await MemberLookup.FindAsync(db, memberId, ct);
        if (member is null)
            return new Failure(ErrorCode.MemberNotFound, $"member {memberId} not found");
        // A channel sees what it sold, not other partners' sales (their prices, saleNos, cards).
        var cards = await CardQueries.MemberCardsAsync(db, member.Id, ct, soldBy: channel.Id);
        return OpenApiResult.Ok(cards, CardJson.Default.ListMemberCardView);
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    /// <summary>The most a numeric(18, 2) column holds; more was a PostgreSQL overflow, a 500.</summary>
    private const decimal MaxAmount = 9_999_999_999_999_999.99m;
}
