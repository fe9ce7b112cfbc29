using Patron.Channels;
using Patron.Compat;
using Patron.Data;

namespace Patron.Members;

/// <summary>
/// The open API's member methods, in the card methods' envelope and gate (<see cref="OpenApiGate"/>):
/// a partner registers a member under its code and reads a member's points.
/// </summary>
public static class MemberPartnerApi
{
    /// <summary>Mapped on each open-API root group, before the catch-all for unknown methods.</summary>
    public static RouteGroupBuilder MapMemberPartnerMethods(this RouteGroupBuilder group)
    {
        group.MapPost("/registerMember", RegisterAsync);
        group.MapPost("/queryMember", QueryAsync);
        return group;
    }

    /// <summary>Idempotent by code: the member already under it is the answer when its name and phone are the ones sent.</summary>
    public static async Task<OpenApiResult> RegisterAsync(HttpContext http, OpenApiGate gate, PatronDb db, TimeProvider clock, CancellationToken ct)
    {
        var call = await gate.OpenAsync(http, Scopes.MemberWrite, ct);
        if (call.Failure is { } refused)
            return refused;
        var (channel, p) = call.Value!;
        var code = p.String("memberId", MemberRules.MaxCodeLength).Trim();
        var name = NullIfEmpty(p.String("name", MemberRules.MaxNameLength, required: false).Trim());
        var phone = NullIfEmpty(p.String("phone", MemberRules.MaxPhoneLength, required: false).Trim());
        if (p.Error is { } invalid)
            return invalid;
        if (MemberRules.CodeProblem(code) is { } problem)
            return Failure.Invalid("memberId", problem);

        var now = clock.GetUtcNow();
        // Two rounds: a create that lost every generated id to racing creates (not its code) tries once more.
        for (var round = 0; round < 2; round++)
        {
            var existing = await MemberLookup.ByCodeAsync(db, code, ct);
            if (existing is null)
            {
                var request = new CreateMemberRequest(Id: null, code, name, phone);
                existing = await MemberCreation.CreateAsync(db, request, $"channel:{channel.Name}", now, ct)
                    ?? await MemberLookup.ByCodeAsync(db, code, ct); // the unique index on the code decided: read the winner
            }
            if (existing is null)
                continue;
            if (existing.Name != name || existing.Phone != phone)
                return new Failure(ErrorCode.SaleNoReused, $"memberId {code} is already registered with another name or phone");
            return OpenApiResult.Ok(existing.ToView(await MemberPoints.LoadAsync(db, existing.Id, now, ct)), MemberJson.Default.MemberView);
        }
        throw new InvalidOperationException($"member {code} could not be created nor found"); // answered 5000, this request alone
    }

    /// <summary>By code or by the points API's integer id, as the card query finds members.</summary>
    public static async Task<OpenApiResult> QueryAsync(HttpContext http, OpenApiGate gate, PatronDb db, TimeProvider clock, CancellationToken ct)
    {
        var call = await gate.OpenAsync(http, Scopes.MemberRead, ct);
        if (call.Failure is { } refused)
            return refused;
        var p = call.Value!.Param;
        var memberId = p.String("memberId", MemberRules.MaxCodeLength);
        if (p.Error is { } invalid)
            return invalid;
        var member = await MemberLookup.FindAsync(db, memberId, ct);
        if (member is null)
            return new Failure(ErrorCode.MemberNotFound, $"member {memberId} not found");
        return OpenApiResult.Ok(member.ToView(await MemberPoints.LoadAsync(db, member.Id, clock.GetUtcNow(), ct)), MemberJson.Default.MemberView);
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
