using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Cards;
using Patron.Console;
using Patron.Data;
using Patron.Levels;

namespace Patron.Members;

public static class MembersApi
{
    private const int MaxNameLength = 100;

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
    public static async Task<Ok<List<MemberResponse>>> SearchAsync(string? q, int? limit, PatronDb db, CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? 20, 1, 100);
        var text = (q ?? "").Trim();
        // Longer than any name, code or phone, it matches nobody; and past 50,000 bytes SQLite refuses the LIKE pattern (a 500).
        if (text.Length > MaxNameLength || StoredText.HasNul(text))
            return TypedResults.Ok(new List<MemberResponse>());
        var query = db.Members.AsNoTracking();
        if (text.Length > 0)
        {
            var id = long.TryParse(text, out var n) ? n : -1;
            query = query.Where(m => m.Id == id || m.Code == text || (m.Phone != null && m.Phone.StartsWith(text)) || (m.Name != null && m.Name.Contains(text)));
        }
        var found = await query.OrderBy(m => m.Id).Take(size).ToListAsync(ct);
        var levels = await db.Levels.AsNoTracking().ToDictionaryAsync(l => l.Id, l => l.Name, ct);
        return TypedResults.Ok(found.Select(m => m.ToResponse(levels.GetValueOrDefault(m.LevelId))).ToList());
    }

    public static async Task<Results<Ok<MemberResponse>, ProblemHttpResult>> GetMemberAsync(long id, PatronDb db, CancellationToken ct)
    {
        var member = await db.Members.AsNoTracking().SingleOrDefaultAsync(m => m.Id == id, ct);
        if (member is null)
            return Problems.NotFound($"There is no member {id}.");
        var level = await db.Levels.AsNoTracking().Where(l => l.Id == member.LevelId).Select(l => l.Name).FirstOrDefaultAsync(ct);
        return TypedResults.Ok(member.ToResponse(level));
    }

    public static async Task<Results<Created<MemberResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateMemberRequest request, PatronDb db, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var errors = Validate(request.Name, request.Phone);
        if (request.Id is < 1)
            errors["id"] = ["1 or more"];
        if (request.Code is { } c && (c.Trim().Length is 0 or > 32 || StoredText.HasNul(c)))
            errors["code"] = ["1 to 32 characters"];
        else if (MemberCodes.IsDigitsOnly(request.Code))
            errors["code"] = ["not digits only: a memberId of digits is read as an id, so a code needs a letter"];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var levels = await LevelTable.LoadAsync(db, ct);
        var now = clock.GetUtcNow();
        for (var attempt = 0; ; attempt++)
        {
            var id = request.Id ?? (await db.Members.MaxAsync(m => (long?)m.Id, ct) ?? 0) + 1;
            var member = new Member
            {
                Id = id, Code = request.Code?.Trim() ?? CardCodes.New('M'), Name = request.Name?.Trim(), Phone = request.Phone?.Trim(),
                LevelId = levels.LevelFor(0), CreatedAt = now,
            };
            db.Members.Add(member);
            var response = member.ToResponse(levels.Levels.FirstOrDefault(l => l.Id == member.LevelId)?.Name);
            db.Record(user, now, "member.create", "member", id.ToString(), null, response);
            try
            {
                await db.SaveChangesAsync(ct);
                return TypedResults.Created($"/api/v1/members/{id}", response);
            }
            catch (DbUpdateException e) when (db.IsUniqueViolation(e))
            {
                db.ChangeTracker.Clear();
                // A chosen id or code is taken; a generated id raced with another create: try the next.
                var codeTaken = request.Code is not null && await db.Members.AnyAsync(m => m.Code == member.Code, ct);
                if (request.Id is not null || codeTaken || attempt >= 5)
                    return Problems.Conflict("That member id or code is already taken.");
            }
        }
    }

    public static async Task<Results<Ok<MemberResponse>, ValidationProblem, ProblemHttpResult>> EditAsync(
        long id, EditMemberRequest request, PatronDb db, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var errors = Validate(request.Name, request.Phone);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var member = await db.Members.SingleOrDefaultAsync(m => m.Id == id, ct);
        if (member is null)
            return Problems.NotFound($"There is no member {id}.");
        var level = await db.Levels.AsNoTracking().Where(l => l.Id == member.LevelId).Select(l => l.Name).FirstOrDefaultAsync(ct);
        var before = member.ToResponse(level);
        (member.Name, member.Phone) = (request.Name?.Trim(), request.Phone?.Trim());
        var after = member.ToResponse(level);
        db.Record(user, clock.GetUtcNow(), "member.edit", "member", id.ToString(), before, after);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(after);
    }

    private static Dictionary<string, string[]> Validate(string? name, string? phone)
    {
        var errors = new Dictionary<string, string[]>();
        if (name is { Length: > MaxNameLength })
            errors["name"] = [$"at most {MaxNameLength} characters"];
        if (phone is { Length: > 32 })
            errors["phone"] = ["at most 32 characters"];
        if (StoredText.HasNul(name, phone))
            errors["text"] = ["no NUL characters"];
        return errors;
    }
}
