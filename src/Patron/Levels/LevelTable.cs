using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Levels;

public enum LevelBasis { Lifetime, Balance }

/// <summary>The chain's levels in threshold order, and what a member's level is measured on.</summary>
public sealed record LevelTable(IReadOnlyList<Level> Levels, LevelBasis Basis)
{
    /// <summary>The highest level whose threshold is at most <paramref name="basis"/>; 0 when none is.</summary>
    public byte LevelFor(long basis)
    {
        byte id = 0;
        foreach (var level in Levels)
            if (level.Threshold <= basis) id = level.Id;
        return id;
    }

    /// <summary>What a member's level is measured on: their balance or their lifetime earned points.</summary>
    public long BasisOf(long balance, long lifetimeEarned) => Basis == LevelBasis.Balance ? balance : lifetimeEarned;

    /// <summary>
    /// A points change promotes only when it carries the member's basis across the threshold of a
    /// level above theirs. So it never demotes (ids rise with thresholds, the catalog checks it),
    /// and a level set by hand or by a review stands until the member earns past another threshold.
    /// </summary>
    public byte Reached(byte current, long basisBefore, long basisAfter)
    {
        var reached = LevelFor(basisAfter);
        return reached > current && reached > LevelFor(basisBefore) ? reached : current;
    }

    public bool Contains(byte id) => Levels.Any(l => l.Id == id);

    public static async Task<LevelTable> LoadAsync(PatronDb db, CancellationToken ct)
    {
        var levels = await db.Levels.AsNoTracking().OrderBy(l => l.Threshold).ToListAsync(ct);
        var basis = await db.Settings.AsNoTracking().Where(s => s.Key == SettingKeys.LevelBasis).Select(s => s.Value).FirstOrDefaultAsync(ct);
        return new LevelTable(levels, ParseBasis(basis) ?? LevelBasis.Lifetime);
    }

    public static LevelBasis? ParseBasis(string? text) => text switch
    {
        null or "lifetime" => LevelBasis.Lifetime,
        "balance" => LevelBasis.Balance,
        _ => null,
    };
}
