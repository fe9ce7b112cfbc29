using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Cards;
using Patron.Channels;
using Patron.Console;
using Patron.Data;
using Patron.Levels;

namespace Patron.Members;

public static class MembersApi
{
    public static RouteGroupBuilder MapMembers(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/members").WithTags("Members");
        group.MapGet("/", SearchAsync);
        group.MapGet("/{id:long}", GetMemberAsync);
        group.MapPost("/", CreateAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapPut("/{id:long}", EditAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        return group;
    }

    /// <summary>By id, code, phone (prefix) or name (part of it).</summary>
    public static async Task<Ok<List<MemberResponse>>> SearchAsync(string? q, int? limit, PatronDb db, TimeProvider clock,
        CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? 20, 1, 100);
        var text = (q ?? "").Trim();
        // Longer than any name, code or phone, it matches nobody; and past 50,000 bytes SQLite refuses the LIKE pattern (a 500).
        if (text.Length > MemberRules.MaxNameLength || StoredText.HasNul(text))
            return TypedResults.Ok(new List<MemberResponse>());
        var query = db.Members.AsNoTracking();
        if (text.Length > 0)
        {
            var id = long.TryParse(text, out var n) ? n : -1;
            query = query.Where(m => m.Id == id || m.Code == text || (m.Phone != null && m.Phone.StartsWith(text)) || (m.Name != null && m.Name.Contains(text)));
        }
        var found = await query.OrderBy(m => m.Id).Take(size).ToListAsync(ct);
        var levels = await db.Levels.AsNoTracking().ToDictionaryAsync(l => l.Id, l => l.Name, ct);
        var points = await MemberPoints.LoadAsync(db, [.. found.Select(m => m.Id)], clock.GetUtcNow(), ct);
        return TypedResults.Ok(found.Select(m => m.ToResponse(levels.GetValueOrDefault(m.LevelId), points.GetValueOrDefault(m.Id, MemberPoints.None))).ToList());
    }

    /// <summary>The member with its pending and expiring points and its live lots, soonest to expire first.</summary>
    public static async Task<Results<Ok<MemberDetailResponse>, ProblemHttpResult>> GetMemberAsync(long id, PatronDb db, ChannelDirectory channels,
        TimeProvider clock, CancellationToken ct)
    {
        if (await MemberPoints.DetailAsync(db, channels, id, clock.GetUtcNow(), ct) is not { } found)
            return Problems.NotFound($"There is no member {id}.");
        var (member, level, points, lots) = found;
        return TypedResults.Ok(member.ToDetail(level, points, lots));
    }

    public static async Task<Results<Created<MemberResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateMemberRequest request, PatronDb db, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var errors = MemberRules.ProfileProblems(request.Name, request.Phone);
        if (request.Id is < 1)
            errors["id"] = ["1 or more"];
        if (request.Code is { } code && MemberRules.CodeProblem(code) is { } problem)
            errors["code"] = [problem];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var now = clock.GetUtcNow();
        var member = await MemberCreation.CreateAsync(db, request, user.Actor(), now, ct);
        if (member is null)
            return Problems.Conflict("That member id or code is already taken.");
        var level = await db.Levels.AsNoTracking().Where(l => l.Id == member.LevelId).Select(l => l.Name).FirstOrDefaultAsync(ct);
        return TypedResults.Created($"/api/v1/members/{member.Id}", member.ToResponse(level, await MemberPoints.LoadAsync(db, member.Id, now, ct)));
    }

    public static async Task<Results<Ok<MemberResponse>, ValidationProblem, ProblemHttpResult>> EditAsync(
        long id, EditMemberRequest request, PatronDb db, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var errors = MemberRules.ProfileProblems(request.Name, request.Phone);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var member = await db.Members.SingleOrDefaultAsync(m => m.Id == id, ct);
        if (member is null)
            return Problems.NotFound($"There is no member {id}.");
        var level = await db.Levels.AsNoTracking().Where(l => l.Id == member.LevelId).Select(l => l.Name).FirstOrDefaultAsync(ct);
        var now = clock.GetUtcNow();
        var points = await MemberPoints.LoadAsync(db, id, now, ct);
        var before = member.ToResponse(level, points);
        (member.Name, member.Phone) = (request.Name?.Trim(), request.Phone?.Trim());
        var after = member.ToResponse(level, points);
        db.Record(user, now, "member.edit", "member", id.ToString(), before, after);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(after);
    }
}
