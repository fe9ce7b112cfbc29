using Patron.Channels;
using Patron.Compat;
using Patron.Data;
using Patron.Points.Lots;

namespace Patron.Points;

/// <summary>The seed's points API: POST api/Setting/KH_GRHY/Point/Add.</summary>
public static class PointsApi
{
    public const string IdempotencyHeader = "Idempotency-Key";

    public static RouteHandlerBuilder MapPointAdd(this IEndpointRouteBuilder routes) =>
        routes.MapPost("/api/Setting/KH_GRHY/Point/Add", AddAsync).WithTags("Points API (seed)").DisableAntiforgery();

    public static async Task<PointsEnvelope> AddAsync(HttpRequest request, ChannelDirectory channels, PointsWrites points, ChannelRateLimiter limiter,
        CancellationToken ct)
    {
        var channel = await ChannelAuth.BearerAsync(request, channels, Scopes.PointsAdd, ct);
        if ((channel.Failure ?? limiter.TryAcquire(channel.Value!, request.HttpContext.Response)) is { } denied)
            return PointsEnvelope.Failed(denied, pointShape: true);

        var body = await WireBody.ReadAsync(request, "MemberValuePointAddParm", ct);
        if (body.Failure is { } malformed)
            return PointsEnvelope.Failed(malformed, pointShape: true);
        var fields = new WireFields(body.Value!);
        var memberId = fields.Long("MemberId");
        var busiType = fields.String("BusiType", maxLength: 16);
        var busiBillNum = fields.String("BusiBillNum", maxLength: PointRules.MaxBillNumLength);
        var changeValue = fields.Long("ChangeValue");
        var key = ReadIdempotencyKey(request, out var badKey);
        if ((fields.Error ?? badKey) is { } invalid)
            return PointsEnvelope.Failed(invalid, pointShape: true);
        if (key is null && channel.Value!.BillNumIsKey)
            key = BillKey(busiType, busiBillNum);

        var change = new PointChange(memberId, busiType, busiBillNum, changeValue, channel.Value!.Id, channel.Value.Name, key,
            new LotTerms(channel.Value.PendingDays, channel.Value.Expiry is { } expiry ? PointsExpiry.Parse(expiry) : null));
        var outcome = await points.AddAsync(change, ct);
        return outcome.Failure is { } failure
            ? PointsEnvelope.Failed(failure, pointShape: true)
            : PointsEnvelope.PointAdded(outcome.Value!.ToTag(), outcome.Value!.Note());
    }

    /// <summary>
    /// What the seed's tag cannot say, told in errmsg: points that are not yet in the balance, and
    /// what a reversal could not take back. Made from the ledger row, so a retry reads the same.
    /// </summary>
    public static string? Note(this PointEntry e) => (e.PendingValue, e.Shortfall) switch
    {
        ( > 0, _) => $"{e.PendingValue} points are pending and not yet in the balance",
        (_, > 0) when e.PendingValue < 0 => $"{-e.PendingValue} pending points cancelled; {e.Shortfall} points could not be taken back: the balance was {e.BalanceBefore}",
        (< 0, _) => $"{-e.PendingValue} pending points cancelled",
        (_, > 0) => $"{e.Shortfall} points could not be taken back: the balance was {e.BalanceBefore}",
        _ => null,
    };

    /// <summary>
    /// The key of a Point/Add without a header on a billNumIsKey channel. It holds spaces, which a
    /// header's key cannot, so it never meets a key a client chose.
    /// </summary>
    public static string BillKey(string busiType, string busiBillNum) => $"bill {busiType} {busiBillNum}";

    public static PointAddTag ToTag(this PointEntry e) =>
        new(e.MemberId, e.AutoId, e.BalanceBefore, e.BalanceAfter, e.LevelBefore, e.LevelAfter);

    /// <summary>Visible ASCII, at most 128 characters: anything else is refused, not truncated.</summary>
    public static string? ReadIdempotencyKey(HttpRequest request, out Failure? error)
    {
        error = null;
        var values = request.Headers[IdempotencyHeader];
        if (values.Count == 0)
            return null;
        var key = values.Count == 1 ? values[0] ?? "" : "";
        if (!PointRules.IsIdempotencyKey(key))
            error = Failure.Invalid(IdempotencyHeader, $"one value of 1 to {PointRules.MaxIdempotencyKeyLength} visible ASCII characters");
        return error is null ? key : null;
    }
}
