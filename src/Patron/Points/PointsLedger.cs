using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Levels;
using Patron.Members;

namespace Patron.Points;

/// <summary>A request to change a member's points, from a channel or an operator.</summary>
public sealed record PointChange(long MemberId, string BusiType, string BusiBillNum, long ChangeValue,
    int? ChannelId, string Actor, string? IdempotencyKey)
{
    /// <summary>The same request in any wire format hashes the same.</summary>
    public string RequestHash() => Convert.ToHexString(SHA256.HashData(
        Encoding.UTF8.GetBytes($"{MemberId}\n{BusiType}\n{BusiBillNum}\n{ChangeValue}")));
}

/// <summary>
/// Operators' adjustments, one transaction each: lock the member, apply the rules, append one ledger
/// row and the audit record together. Partners' Point/Add goes through <see cref="PointsWriter"/>
/// (group commit); both take the member's row lock and build rows with <see cref="PointsBatch.NewEntry"/>.
/// </summary>
public sealed class PointsLedger(PatronDb db, TimeProvider clock)
{
    /// <param name="audit">Adds an audit record for the entry to the same transaction (operator changes).</param>
    public async Task<Outcome<PointEntry>> AddAsync(PointChange change, CancellationToken ct, Action<PointEntry>? audit = null)
    {
        if (PointRules.Validate(change.BusiType, change.BusiBillNum, change.ChangeValue) is { } invalid)
            return invalid;
        var hash = change.IdempotencyKey is null ? null : change.RequestHash();
        try
        {
            return await AddOnceAsync(change, hash, audit, ct);
        }
        catch (DbUpdateException e) when (db.IsUniqueViolation(e))
        {
            // The same key raced in for another member and won: answer as a replay would.
            db.ChangeTracker.Clear();
            return await ReplayAsync(change, hash!, ct)
                ?? throw new InvalidOperationException("unique violation without an earlier idempotent request", e);
        }
    }

    private async Task<Outcome<PointEntry>> AddOnceAsync(PointChange change, string? hash, Action<PointEntry>? audit, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var member = await db.LockMemberAsync(change.MemberId, ct);

        // Looked up under the member's lock, so a concurrent twin for the same member sees the winner.
        if (hash is not null && await ReplayAsync(change, hash, ct) is { } replay)
            return replay;
        if (member is null)
            return new Failure(ErrorCode.MemberNotFound, $"member {change.MemberId} not found");

        var levels = await LevelTable.LoadAsync(db, ct);
        var before = new PointsState(member.Balance, member.LifetimeEarned, member.LevelId);
        var outcome = PointRules.Apply(before, change.BusiType[0], change.ChangeValue, levels);
        if (outcome.Failure is { } failure)
            return failure;

        var after = outcome.Value;
        var entry = PointsBatch.NewEntry(change, hash, before, after, clock.GetUtcNow());
        (member.Balance, member.LifetimeEarned, member.LevelId) = (after.Balance, after.LifetimeEarned, after.LevelId);
        db.PointEntries.Add(entry);
        audit?.Invoke(entry);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return entry;
    }

    private async Task<Outcome<PointEntry>?> ReplayAsync(PointChange change, string hash, CancellationToken ct)
    {
        var earlier = await db.PointEntries.AsNoTracking()
            .FirstOrDefaultAsync(p => p.ChannelId == change.ChannelId && p.IdempotencyKey == change.IdempotencyKey, ct);
        if (earlier is null)
            return null;
        return earlier.RequestHash == hash
            ? earlier
            : new Failure(ErrorCode.IdempotencyKeyReused, "Idempotency-Key was already used with a different request");
    }
}
