using Patron.Channels;
using Patron.Compat;
using Patron.Data;
using Patron.Events;
using Patron.Members;

namespace Patron.Levels;

/// <summary>The seed system's sibling endpoint: POST api/Setting/KH_GRHY/Level/Set.</summary>
public static class LevelSetApi
{
    private const int MaxMembers = 1000;

    public static RouteHandlerBuilder MapLevelSet(this IEndpointRouteBuilder routes) =>
        routes.MapPost("/api/Setting/KH_GRHY/Level/Set", SetAsync).WithTags("Points API (seed)").DisableAntiforgery();

    public static async Task<PointsEnvelope> SetAsync(HttpRequest request, PatronDb db, ChannelDirectory channels, ChannelRateLimiter limiter,
        TimeProvider clock, CancellationToken ct)
    {
        // "Same formats and auth as Point/Add" (SPEC §2): the points.add scope.
        var channel = await ChannelAuth.BearerAsync(request, channels, Scopes.LevelSet, ct);
        if ((channel.Failure ?? limiter.TryAcquire(channel.Value!, request.HttpContext.Response)) is { } denied)
            return PointsEnvelope.Failed(denied, pointShape: false);
        var body = await WireBody.ReadAsync(request, "MemberLevelSetParm", ct);
        if (body.Failure is { } malformed)
            return PointsEnvelope.Failed(malformed, pointShape: false);

        var fields = new WireFields(body.Value!);
        var onlyUpTo = fields.String("OnlyUpTo", maxLength: 16, required: false) == "1";
        var levelId = (byte)fields.Long("LevelId", 0, 255);
        var memberIds = fields.LongList("MemberList", MaxMembers).Distinct().ToArray();
        if (fields.Error is { } invalid)
            return PointsEnvelope.Failed(invalid, pointShape: false);

        var levels = await LevelTable.LoadAsync(db, ct);
        if (!levels.Contains(levelId))
            return PointsEnvelope.Failed(Failure.Invalid("LevelId", $"there is no level {levelId}"), pointShape: false);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var members = await db.LockMembersAsync(memberIds, ct);
        if (members.Count != memberIds.Length)
        {
            var missing = memberIds.Except(members.Select(m => m.Id)).Take(10);
            return PointsEnvelope.Failed(new Failure(ErrorCode.MemberNotFound, $"members not found: {string.Join(", ", missing)}"), pointShape: false);
        }

        var now = clock.GetUtcNow();
        var changed = 0;
        foreach (var member in members)
        {
            if (member.LevelId == levelId || (onlyUpTo && member.LevelId > levelId))
                continue;
            db.MemberLogs.Add(new MemberLog
            {
                MemberId = member.Id, Kind = "level", FromValue = member.LevelId.ToString(), ToValue = levelId.ToString(),
                Actor = $"channel:{channel.Value!.Name}", At = now,
            });
            db.OutboxEvents.Add(OutboxEvents.LevelSet(member.Id, member.LevelId, levelId, channel.Value!.Id, now));
            // The review's anniversary counts from here; point adds leave the level be until they cross a threshold.
            (member.LevelId, member.LevelSince) = (levelId, now);
            changed++;
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return PointsEnvelope.LevelSet($"{changed} of {memberIds.Length} member(s) set to level {levelId}");
    }
}
