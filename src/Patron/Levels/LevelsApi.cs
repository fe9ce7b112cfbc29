using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Console;
using Patron.Data;

namespace Patron.Levels;

public sealed record LevelResponse(byte Id, string Name, long Threshold);

public sealed record LevelRequest(string Name, long Threshold);

public static class LevelsApi
{
    public static RouteGroupBuilder MapLevels(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/levels").WithTags("Levels");
        group.MapGet("/", ListAsync);
        group.MapPut("/{id:int}", PutAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        return group;
    }

    public static async Task<Ok<List<LevelResponse>>> ListAsync(PatronDb db, CancellationToken ct) =>
        TypedResults.Ok(await db.Levels.AsNoTracking().OrderBy(l => l.Threshold).Select(l => new LevelResponse(l.Id, l.Name, l.Threshold)).ToListAsync(ct));

    /// <summary>Creates or edits a level; ids must keep rising with thresholds, since promotion compares ids.</summary>
    public static async Task<Results<Ok<LevelResponse>, ValidationProblem>> PutAsync(
        int id, LevelRequest request, PatronDb db, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (id is < 0 or > 255)
            errors["id"] = ["0 to 255"];
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 64 || StoredText.HasNul(request.Name))
            errors["name"] = ["required, at most 64 characters"];
        if (request.Threshold < 0)
            errors["threshold"] = ["0 or more"];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var levels = await db.Levels.ToListAsync(ct);
        var level = levels.SingleOrDefault(l => l.Id == id);
        var before = level is null ? null : new LevelResponse(level.Id, level.Name, level.Threshold);
        if (level is null)
            levels.Add(level = db.Levels.Add(new Level { Id = (byte)id, Name = "" }).Entity);
        (level.Name, level.Threshold) = (request.Name.Trim(), request.Threshold);
        var ordered = levels.OrderBy(l => l.Threshold).ToList();
        if (ordered.Zip(ordered.Skip(1)).Any(p => p.Second.Id <= p.First.Id || p.Second.Threshold <= p.First.Threshold))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["threshold"] = ["level ids and thresholds must rise together"] });

        var after = new LevelResponse(level.Id, level.Name, level.Threshold);
        db.Record(user, clock.GetUtcNow(), before is null ? "level.create" : "level.edit", "level", id.ToString(), before, after);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(after);
    }
}
