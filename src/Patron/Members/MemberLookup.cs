using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Members;

public static class MemberLookup
{
    /// <summary>The open API names a member by code (L38E1ASJP00Q4) or by the points API's integer id.</summary>
    public static async Task<Member?> FindAsync(PatronDb db, string reference, CancellationToken ct) =>
        await db.Members.AsNoTracking().SingleOrDefaultAsync(m => m.Code == reference, ct)
        ?? (long.TryParse(reference, out var id) ? await db.Members.AsNoTracking().SingleOrDefaultAsync(m => m.Id == id, ct) : null);

    public static Task<Member?> ByCodeAsync(PatronDb db, string code, CancellationToken ct) =>
        db.Members.AsNoTracking().SingleOrDefaultAsync(m => m.Code == code, ct);
}
