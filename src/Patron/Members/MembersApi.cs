using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Console;
using Patron.Data;
using Patron.Points;

namespace Patron.Members;

public static class MembersApi
{
    private const int MaxPageSize = 200;

    public static RouteGroupBuilder MapMembers(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/members").RequireAuthorization(OperatorAuth.Policy).WithTags("Members");
        group.MapGet("/{id:long}", GetMemberAsync);
        group.MapGet("/{id:long}/points", GetLedgerAsync);
        return group;
    }

    public static async Task<Results<Ok<MemberResponse>, ProblemHttpResult>> GetMemberAsync(long id, PatronDb db, CancellationToken ct)
    {
        var found = await db.Members.AsNoTracking()
            .Where(m => m.Id == id)
            .Select(m => new { Member = m, LevelName = db.Levels.Where(l => l.Id == m.LevelId).Select(l => l.Name).FirstOrDefault() })
            .SingleOrDefaultAsync(ct);
        if (found is null)
            return MemberNotFound(id);
        var m = found.Member;
        return TypedResults.Ok(new MemberResponse(m.Id, m.Code, m.Name, m.Phone, m.Balance, m.LifetimeEarned, new LevelRef(m.LevelId, found.LevelName)));
    }

    public static async Task<Results<Ok<LedgerPage>, ProblemHttpResult, ValidationProblem>> GetLedgerAsync(
        long id, long? before, int? limit, PatronDb db, CancellationToken ct)
    {
        var size = limit ?? 50;
        if (size is < 1 or > MaxPageSize)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"1 to {MaxPageSize}"] });
        if (!await db.Members.AnyAsync(m => m.Id == id, ct))
            return MemberNotFound(id);

        // Keyset paging on AutoId: stable under concurrent appends, no OFFSET scans.
        var query = db.PointEntries.AsNoTracking().Where(p => p.MemberId == id);
        if (before is { } cursor)
            query = query.Where(p => p.AutoId < cursor);
        var rows = await query.OrderByDescending(p => p.AutoId).Take(size + 1).ToListAsync(ct);
        var page = rows.Take(size).Select(p => p.ToRow()).ToList();
        return TypedResults.Ok(new LedgerPage(page, rows.Count > size ? page[^1].AutoId : null));
    }

    private static ProblemHttpResult MemberNotFound(long id) =>
        TypedResults.Problem(title: "Member not found", detail: $"There is no member {id}.", statusCode: StatusCodes.Status404NotFound);

    public static LedgerRow ToRow(this PointEntry p) =>
        new(p.AutoId, p.BusiType, p.BusiBillNum, p.ChangeValue, p.BalanceBefore, p.BalanceAfter,
            p.LevelBefore, p.LevelAfter, p.Actor, p.CreatedAt, p.IdempotencyKey);
}
