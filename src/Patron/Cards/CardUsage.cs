using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Channels;
using Patron.Data;

namespace Patron.Cards;

public sealed record UseRequest(string CardRef, string CardProductId, string Posid, string UseNo, long? UseTime)
{
    /// <summary>A default useTime is left out: a retry sent later must still count as the same use.</summary>
    public string Hash() => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', CardRef, CardProductId, Posid, UseTime))));
}

/// <summary>
/// Uses (on SQLite; PostgreSQL batches them in <see cref="PostgresCardUseWriter"/>) and cancels of a
/// card product. Each is one transaction whose write to the usage entry is a compare-and-set on
/// lockVersion: a concurrent change makes it fail, re-read and decide again, so no quota is ever
/// exceeded, on one instance or many.
/// </summary>
public sealed class CardUsage(PatronDb db, TimeProvider clock) : ICardUses
{
    private const int MaxAttempts = 50;

    public async Task<Outcome<UsageEntryView>> UseAsync(Channel channel, UseRequest request, CancellationToken ct)
    {
        var hash = request.Hash();
        var zone = await BusinessZone.LoadAsync(db, ct);
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var earlier = await db.CardUses.AsNoTracking().SingleOrDefaultAsync(u => u.ChannelId == channel.Id && u.UseNo == request.UseNo, ct);
            if (earlier is not null)
                return earlier.RequestHash == hash
                    ? JsonSerializer.Deserialize(earlier.ResultJson, CardJson.Default.UsageEntryView)!
                    : new Failure(ErrorCode.IdempotencyKeyReused, $"useNo {request.UseNo} was already used for a different use");

            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var card = await db.MemberCards.AsNoTracking().SingleOrDefaultAsync(c => c.Id == request.CardRef, ct);
            var entry = card is null ? null
                : await db.UsageEntries.SingleOrDefaultAsync(e => e.MemberCardId == card.Id && e.CardProductId == request.CardProductId, ct);
            if (card is null || entry is null)
                return new Failure(ErrorCode.MemberCardNotFound, $"member card {request.CardRef} has no product {request.CardProductId}");

            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            var t = request.UseTime ?? now;
            var cycles = await UncancelledCyclesAsync(entry.Id, ct);
            var decided = CardRules.Use(card, entry, cycles, t, zone);
            if (decided.Failure is { } refused)
                return refused;

            cycles.Add(decided.Value);
            Apply(entry, UsageSummary.Of(cycles), request.Posid);
            var sale = await db.CardSales.AsNoTracking().SingleAsync(s => s.Id == card.SaleId, ct);
            var view = entry.ToView(card, sale);
            db.CardUses.Add(new CardUse
            {
                ChannelId = channel.Id, UseNo = request.UseNo, UsageEntryId = entry.Id, MemberCardId = card.Id, Posid = request.Posid,
                UseTime = t, Cycle = decided.Value, CreatedAt = now, RequestHash = hash,
                ResultJson = JsonSerializer.Serialize(view, CardJson.Default.UsageEntryView),
            });
            db.CardUseLogs.Add(new CardUseLog
            {
                UsageEntryId = entry.Id, Kind = "use", UseNo = request.UseNo, Posid = request.Posid, ChannelId = channel.Id, At = now,
                HasUsedNumAfter = entry.HasUsedNum,
            });
            if (await TrySaveAsync(attempt, ct))
            {
                await tx.CommitAsync(ct);
                return view;
            }
        }
    }

    /// <summary>Gives a use back; cancelling a cancelled use changes nothing.</summary>
    public async Task<Outcome<UsageEntryView>> CancelAsync(Channel channel, string useNo, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var use = await db.CardUses.SingleOrDefaultAsync(u => u.ChannelId == channel.Id && u.UseNo == useNo, ct);
            if (use is null)
                return new Failure(ErrorCode.MemberCardNotFound, $"use {useNo} not found");
            var entry = await db.UsageEntries.SingleAsync(e => e.Id == use.UsageEntryId, ct);
            var card = await db.MemberCards.AsNoTracking().SingleAsync(c => c.Id == entry.MemberCardId, ct);
            var sale = await db.CardSales.AsNoTracking().SingleAsync(s => s.Id == card.SaleId, ct);
            if (use.CancelledAt is not null)
                return entry.ToView(card, sale);

            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            use.CancelledAt = now;
            var cycles = await UncancelledCyclesAsync(entry.Id, ct);
            cycles.Remove(use.Cycle);
            Apply(entry, UsageSummary.Of(cycles), entry.Posid);
            db.CardUseLogs.Add(new CardUseLog
            {
                UsageEntryId = entry.Id, Kind = "cancel", UseNo = useNo, Posid = use.Posid, ChannelId = channel.Id, At = now,
                HasUsedNumAfter = entry.HasUsedNum,
            });
            if (await TrySaveAsync(attempt, ct))
            {
                await tx.CommitAsync(ct);
                return entry.ToView(card, sale);
            }
        }
    }

    private Task<List<int>> UncancelledCyclesAsync(string entryId, CancellationToken ct) =>
        db.CardUses.Where(u => u.UsageEntryId == entryId && u.CancelledAt == null).Select(u => u.Cycle).ToListAsync(ct);

    private static void Apply(UsageEntry entry, UsageSummary summary, string? posid)
    {
        (entry.HasUsedNum, entry.LastCycle, entry.LastCycleUsed) = (summary.HasUsedNum, summary.LastCycle, summary.LastCycleUsed);
        entry.Posid = posid;
        entry.LockVersion++;
    }

    /// <summary>False when another writer changed the entry first (its lockVersion moved): decide again.</summary>
    private async Task<bool> TrySaveAsync(int attempt, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateConcurrencyException) when (attempt < MaxAttempts)
        {
        }
        catch (DbUpdateException e) when (db.IsUniqueViolation(e) && attempt < MaxAttempts)
        {
            // The same useNo raced in through another request: the next round replays it.
        }
        await Task.Delay(Random.Shared.Next(1, 1 + Math.Min(attempt, 10)), ct);
        return false;
    }
}
