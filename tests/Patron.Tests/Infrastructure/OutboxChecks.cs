using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Events;

namespace Patron.Tests.Infrastructure;

/// <summary>What the outbox must hold for the ledger, counted on each side so that a difference shows which side is off.</summary>
public static class OutboxChecks
{
    /// <summary>The ledger's rows, and those that moved a level.</summary>
    public static async Task<(int Rows, int LevelMoves)> LedgerRowsAsync(PatronDb db) =>
        (await db.PointEntries.CountAsync(), await db.PointEntries.CountAsync(p => p.LevelBefore != p.LevelAfter));

    /// <summary>
    /// The ledger's events: distinct rows with a points.changed, and level.changed events made of rows;
    /// an event whose row is missing, or a row's second event of a type, makes these differ too.
    /// </summary>
    public static async Task<(int Rows, int LevelMoves)> LedgerEventsAsync(PatronDb db)
    {
        var changed = await db.OutboxEvents.Where(e => e.Type == EventTypes.PointsChanged).Select(e => e.LedgerId).ToListAsync();
        var levels = await db.OutboxEvents.Where(e => e.Type == EventTypes.LevelChanged && e.LedgerId != null).Select(e => e.LedgerId).ToListAsync();
        var rows = (await db.PointEntries.Select(p => p.AutoId).ToListAsync()).ToHashSet();
        var moved = (await db.PointEntries.Where(p => p.LevelBefore != p.LevelAfter).Select(p => p.AutoId).ToListAsync()).ToHashSet();
        return (Count(changed, rows), Count(levels, moved));
    }

    /// <summary>How many events there are, or -1 when two share a row or one's row is not among the rows.</summary>
    private static int Count(List<long?> ids, HashSet<long> rows) =>
        ids.Count == ids.Distinct().Count() && ids.All(id => id is { } row && rows.Contains(row)) ? ids.Count : -1;
}
