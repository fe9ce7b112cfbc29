using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Members;

public static class MemberLookup
{
    /// <summary>The open API names a member by code (L38E1ASJP00Q4) or by the points API's integer id.</summary>
    public static async Task<Member?> FindAsync(PatronDb db, string reference, CancellationToken ct) =>
        await ByCodeAsync(db, reference, ct) ?? (long.TryParse(reference, out var id) ? await ById.For(db)(db, id, ct) : null);

    public static Task<Member?> ByCodeAsync(PatronDb db, string code, CancellationToken ct) => ByCode.For(db)(db, code, ct);

    // Every partner call that names a member starts here: compiled (see CompiledQuery).
    private static readonly CompiledQuery<Func<PatronDb, string, CancellationToken, Task<Member?>>> ByCode =
        new(() => EF.CompileAsyncQuery((PatronDb db, string code, CancellationToken ct) => db.Members.AsNoTracking().SingleOrDefault(m => m.Code == code)));

    private static readonly CompiledQuery<Func<PatronDb, long, CancellationToken, Task<Member?>>> ById =
        new(() => EF.CompileAsyncQuery((PatronDb db, long id, CancellationToken ct) => db.Members.AsNoTracking().SingleOrDefault(m => m.Id == id)));
}
