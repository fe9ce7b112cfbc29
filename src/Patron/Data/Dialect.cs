using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
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

    public static bool IsUniqueViolation(this PatronDb db, DbUpdateException e) => e.InnerException switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        _ => false,
    };
}
