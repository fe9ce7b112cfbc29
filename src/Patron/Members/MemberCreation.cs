using Microsoft.EntityFrameworkCore;
using Patron.Cards;
using Patron.Console;
using Patron.Data;
using Patron.Levels;

namespace Patron.Members;

/// <summary>The rules a member's fields follow wherever a member is made or edited (native API, console, open API).</summary>
public static class MemberRules
{
    public const int MaxNameLength = 100;
    public const int MaxPhoneLength = 32;
    public const int MaxCodeLength = 32;

    /// <summary>Why a chosen code cannot be a member's code, or null when it can.</summary>
    public static string? CodeProblem(string code) =>
        code.Trim().Length is 0 or > MaxCodeLength || StoredText.HasNul(code) ? $"1 to {MaxCodeLength} characters"
        : IsDigitsOnly(code) ? "not digits only: a memberId of digits is read as an id, so a code needs a letter"
        : null;

    /// <summary>
    /// A code of digits only would shadow a member id wherever a <c>memberId</c> may be either, so
    /// such a code is refused wherever a code is made.
    /// </summary>
    public static bool IsDigitsOnly(string? code) => code is { Length: > 0 } && code.Trim().All(char.IsAsciiDigit);

    public static Dictionary<string, string[]> ProfileProblems(string? name, string? phone)
    {
        var errors = new Dictionary<string, string[]>();
        if (name is { Length: > MaxNameLength })
            errors["name"] = [$"at most {MaxNameLength} characters"];
        if (phone is { Length: > MaxPhoneLength })
            errors["phone"] = [$"at most {MaxPhoneLength} characters"];
        if (StoredText.HasNul(name, phone))
            errors["text"] = ["no NUL characters"];
        return errors;
    }
}

/// <summary>
/// Makes a member: the one way every caller (operator, console, partner) gets a new id and a first level.
/// A generated id is the highest plus one, drawn again when another create took it meanwhile.
/// </summary>
public static class MemberCreation
{
    private const int Attempts = 6;

    /// <summary>The new member, or null when its chosen id or code is taken (the unique indexes decide).</summary>
    /// <param name="request">Already checked by <see cref="MemberRules"/>.</param>
    /// <param name="actor">Who the audit row names, e.g. <c>operator:admin</c> or <c>channel:hkl-test</c>.</param>
    public static async Task<Member?> CreateAsync(PatronDb db, CreateMemberRequest request, string actor, DateTimeOffset now, CancellationToken ct)
    {
        var levels = await LevelTable.LoadAsync(db, ct);
        for (var attempt = 1; ; attempt++)
        {
            var id = request.Id ?? (await db.Members.MaxAsync(m => (long?)m.Id, ct) ?? 0) + 1;
            var member = new Member
            {
                Id = id, Code = request.Code?.Trim() ?? CardCodes.New('M'), Name = request.Name?.Trim(), Phone = request.Phone?.Trim(),
                // A first level review falls due a period after the member joined.
                LevelId = levels.LevelFor(0), CreatedAt = now, LevelSince = now,
            };
            db.Members.Add(member);
            var response = member.ToResponse(levels.Levels.FirstOrDefault(l => l.Id == member.LevelId)?.Name, now);
            db.Record(Audit.Entry(actor, now, "member.create", "member", id.ToString(), null, response));
            try
            {
                await db.SaveChangesAsync(ct);
                db.Entry(member).State = EntityState.Detached;
                return member;
            }
            catch (DbUpdateException e) when (db.IsUniqueViolation(e))
            {
                db.ChangeTracker.Clear();
                // A chosen id or code is taken; a generated id raced with another create: try the next.
                var codeTaken = request.Code is not null && await db.Members.AnyAsync(m => m.Code == member.Code, ct);
                if (request.Id is not null || codeTaken || attempt >= Attempts)
                    return null;
            }
        }
    }
}
