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

    /// <summary>Adding points only promotes: ids rise with thresholds (the catalog checks it).</summary>
    public byte Promote(byte current, long balance, long lifetimeEarned) =>
        Math.Max(current, LevelFor(Basis == LevelBasis.Balance ? balance : lifetimeEarned));

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
