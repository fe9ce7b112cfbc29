using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Patron.Cards;
using Patron.Members;

namespace Patron.Data;

/// <summary>The few places where SQLite and PostgreSQL need different SQL.</summary>
public static class Dialect
{
    /// <summary>
    /// Loads a member for update inside the current transaction. PostgreSQL takes the row lock;
    /// SQLite needs none, since its transactions begin IMMEDIATE and so hold the write lock.
    /// </summary>
    public static async Task<Member?> LockMemberAsync(this PatronDb db, long id, CancellationToken ct)
    {
        if (db is PostgresPatronDb)
            return (await db.Members.FromSql($"SELECT * FROM members WHERE id = {id} FOR UPDATE").ToListAsync(ct)).SingleOrDefault();
        return await db.Members.SingleOrDefaultAsync(m => m.Id == id, ct);
    }

    /// <summary>Locks several members in id order, so that two such transactions cannot deadlock.</summary>
    public static async Task<List<Member>> LockMembersAsync(this PatronDb db, long[] ids, CancellationToken ct)
    {
        if (db is PostgresPatronDb)
            return await db.Members.FromSql($"SELECT * FROM members WHERE id = ANY({ids}) ORDER BY id FOR UPDATE").ToListAsync(ct);
        return await db.Members.Where(m => ids.Contains(m.Id)).ToListAsync(ct);
    }

    /// <summary>
    /// Locks a member card's usage entries in id order, as uses and refunds lock them, so that a
    /// change to the card waits for a use in flight and cannot deadlock with one.
    /// </summary>
    public static async Task LockCardEntriesAsync(this PatronDb db, string memberCardId, CancellationToken ct)
    {
        if (db is PostgresPatronDb)
            await db.Database.SqlQuery<string>($"SELECT id AS \"Value\" FROM usage_entries WHERE member_card_id = {memberCardId} ORDER BY id FOR UPDATE")
                .ToListAsync(ct);
    }

    /// <summary>
    /// The usage entries of the given member cards. On PostgreSQL each card's are looked up on their
    /// own through the card's index: <c>OFFSET 0</c> keeps the planner from flattening the lookup into
    /// a join, so the plan cannot follow stale statistics to a scan of the whole table (after a burst
    /// of sales, before the next analyze, <c>member_card_id = ANY</c> was planned as one, 50 to 140 ms
    /// a call under load).
    /// </summary>
    public static Task<List<UsageEntry>> CardEntriesAsync(this PatronDb db, string[] cardIds, CancellationToken ct) =>
        db is PostgresPatronDb
            ? db.UsageEntries.FromSql($"""
                SELECT e.* FROM (SELECT unnest({cardIds}) AS card_id) AS k
                CROSS JOIN LATERAL (SELECT * FROM usage_entries AS u WHERE u.member_card_id = k.card_id OFFSET 0) AS e
                """).AsNoTracking().ToListAsync(ct)
            : db.UsageEntries.AsNoTracking().Where(e => cardIds.Contains(e.MemberCardId)).ToListAsync(ct);

    public static bool IsUniqueViolation(this PatronDb db, DbUpdateException e) => e.InnerException switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        _ => false,
    };
}
