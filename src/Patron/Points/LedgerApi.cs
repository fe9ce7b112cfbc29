using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Console;
using Patron.Data;

namespace Patron.Points;

/// <summary>
/// One ledger row. <c>Earned</c> is its change to lifetime points, <c>PendingValue</c> its change to pending
/// points, <c>Shortfall</c> what a reversal could not take because the points were already spent.
/// </summary>
public sealed record LedgerRow(
    long AutoId, string BusiType, string BusiBillNum, long ChangeValue, long BalanceBefore, long BalanceAfter,
    byte LevelBefore, byte LevelAfter, string Actor, DateTimeOffset CreatedAt, string? IdempotencyKey,
    long Earned, long PendingValue, long Shortfall);

/// <summary>A page of the ledger, newest first; pass <c>NextBefore</c> as <c>before</c> for the next page.</summary>
public sealed record LedgerPage(IReadOnlyList<LedgerRow> Items, long? NextBefore);

/// <summary>An operator's correction: the same rules as Point/Add, attributed to the operator.</summary>
public sealed record PointAdjustRequest(string BusiType, string? BusiBillNum, long ChangeValue);

/// <summary>A member's points ledger for operators: read, export, adjust.</summary>
public static class LedgerApi
{
    private const int MaxPageSize = 200;

    public static RouteGroupBuilder MapLedger(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/members/{id:long}").WithTags("Points");
        group.MapGet("/points", GetLedgerAsync);
        group.MapGet("/points.csv", ExportAsync);
        group.MapPost("/points", AdjustAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        return group;
    }

    public static async Task<Results<Ok<LedgerPage>, ProblemHttpResult, ValidationProblem>> GetLedgerAsync(
        long id, long? before, int? limit, PatronDb db, CancellationToken ct)
    {
        var size = limit ?? 50;
        if (size is < 1 or > MaxPageSize)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"1 to {MaxPageSize}"] });
        if (!await db.Members.AnyAsync(m => m.Id == id, ct))
            return Problems.NotFound($"There is no member {id}.");

        // Keyset paging on AutoId: stable under concurrent appends, no OFFSET scans.
        var query = db.PointEntries.AsNoTracking().Where(p => p.MemberId == id);
        if (before is { } cursor)
            query = query.Where(p => p.AutoId < cursor);
        var rows = await query.OrderByDescending(p => p.AutoId).Take(size + 1).ToListAsync(ct);
        var page = rows.Take(size).Select(p => p.ToRow()).ToList();
        return TypedResults.Ok(new LedgerPage(page, rows.Count > size ? page[^1].AutoId : null));
    }

    public static async Task<IResult> ExportAsync(long id, PatronDb db, CancellationToken ct)
    {
        if (!await db.Members.AnyAsync(m => m.Id == id, ct))
            return Problems.NotFound($"There is no member {id}.");
        var rows = db.PointEntries.AsNoTracking().Where(p => p.MemberId == id).OrderBy(p => p.AutoId)
            .Select(p => new object?[]
            {
                p.AutoId, p.CreatedAt, p.BusiType, p.BusiBillNum, p.ChangeValue, p.BalanceBefore, p.BalanceAfter, p.LevelBefore, p.LevelAfter, p.Actor,
                p.Earned, p.PendingValue, p.Shortfall,
            })
            .AsAsyncEnumerable();
        // New columns go at the end: spreadsheets and scripts read the older ones by position.
        return Csv.File($"member-{id}-points.csv", await BusinessZone.LoadAsync(db, ct),
            ["AutoId", "CreatedAt", "BusiType", "BusiBillNum", "ChangeValue", "BalanceBefore", "BalanceAfter", "LevelBefore", "LevelAfter", "Actor",
                "Earned", "PendingValue", "Shortfall"], rows);
    }

    /// <summary>
    /// An Idempotency-Key makes a retry safe: the same request gets the first row back; another
    /// request under the key is 409. Keys are the operator's own.
    /// </summary>
    public static async Task<Results<Created<LedgerRow>, ProblemHttpResult>> AdjustAsync(
        long id, PointAdjustRequest request, HttpRequest http, PointsWrites points, ClaimsPrincipal user, CancellationToken ct)
    {
        var key = PointsApi.ReadIdempotencyKey(http, out var badKey);
        return badKey is { } invalid ? Problems.Invalid(invalid.Message) : await ApplyAdjustmentAsync(id, request, key, points, user, ct);
    }

    /// <summary>The adjustment itself, for the API and the console's form alike.</summary>
    public static async Task<Results<Created<LedgerRow>, ProblemHttpResult>> ApplyAdjustmentAsync(
        long id, PointAdjustRequest request, string? idempotencyKey, PointsWrites points, ClaimsPrincipal user, CancellationToken ct)
    {
        // Audited by the write itself, in its transaction (PointsDecider).
        var change = new PointChange(id, request.BusiType ?? "", request.BusiBillNum ?? "console", request.ChangeValue,
            ChannelId: null, Actor: user.Actor(), IdempotencyKey: idempotencyKey);
        var outcome = await points.AddAsync(change, ct);
        if (outcome.Failure is { } failure)
            return failure.Code == ErrorCode.InvalidParameter ? Problems.Invalid(failure.Message) : Problems.From(failure);
        return TypedResults.Created($"/api/v1/members/{id}/points", outcome.Value!.ToRow());
    }

    public static LedgerRow ToRow(this PointEntry p) =>
        new(p.AutoId, p.BusiType, p.BusiBillNum, p.ChangeValue, p.BalanceBefore, p.BalanceAfter,
            p.LevelBefore, p.LevelAfter, p.Actor, p.CreatedAt, p.IdempotencyKey, p.Earned, p.PendingValue, p.Shortfall);
}
