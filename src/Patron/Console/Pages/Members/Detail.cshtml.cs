using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Patron.Cards;
using Patron.Channels;
using Patron.Data;
using Patron.Members;
using Patron.Points;

namespace Patron.Console.Pages.Members;

public sealed partial class MemberDetailModel(PatronDb db, PointsWrites points, CardRefundWrites refunds, CardCancelWrites cancels,
    ChannelDirectory channels, TimeProvider clock) : PageModel
{
    private TimeZoneInfo _zone = TimeZoneInfo.Utc;
    private Dictionary<string, string> _cardZones = [];
    private long _now;
    private Dictionary<(string Entry, int Cycle), int> _cycleUses = [];

    public MemberDetailResponse Member { get; private set; } = null!;
    public LedgerPage Ledger { get; private set; } = null!;
    public List<MemberCardView> Cards { get; private set; } = [];
    public string? Error { get; private set; }

    /// <summary>
    /// The adjust form's one-time key, new at every rendering: a second click or a browser's resend
    /// of the same form carries the same key, and the write answers it with the first outcome.
    /// </summary>
    public string AdjustKey { get; } = Secrets.NewKey();

    public async Task<IActionResult> OnGetAsync(long id, long? before, CancellationToken ct)
    {
        if ((await MembersApi.GetMemberAsync(id, db, channels, clock, ct)).Result is not Ok<MemberDetailResponse> found)
            return NotFound();
        Member = found.Value!;
        Ledger = ((Ok<LedgerPage>)(await LedgerApi.GetLedgerAsync(id, before, 50, db, ct)).Result).Value!;
        Cards = await CardQueries.MemberCardsAsync(db, id, clock.GetUtcNow(), ct);
        _zone = await BusinessZone.LoadAsync(db, ct);
        _cardZones = await db.MemberCards.AsNoTracking().Where(c => c.MemberId == id).ToDictionaryAsync(c => c.Id, c => c.TimeZone, ct);
        _now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var entries = Cards.SelectMany(c => c.MemberUsedList).Select(e => e.Id).ToList();
        _cycleUses = await db.CardUses.AsNoTracking().Where(u => entries.Contains(u.UsageEntryId) && u.CancelledAt == null)
            .GroupBy(u => new { u.UsageEntryId, u.Cycle }).Select(g => new { g.Key.UsageEntryId, g.Key.Cycle, Count = g.Count() })
            .ToDictionaryAsync(g => (g.UsageEntryId, g.Cycle), g => g.Count, ct);
        await LoadCardActionsAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAdjustAsync(long id, string busiType, string? busiBillNum, long changeValue, string? adjustKey,
        CancellationToken ct)
    {
        IResult result;
        if (adjustKey is not null && !PointRules.IsIdempotencyKey(adjustKey))
            result = Problems.Invalid("The form was damaged; reload the page and try again.");
        else
        {
            result = (await LedgerApi.ApplyAdjustmentAsync(id, new PointAdjustRequest(busiType, busiBillNum, changeValue), adjustKey, points, User, ct)).Result;
            if (result is ProblemHttpResult { StatusCode: StatusCodes.Status409Conflict })
                result = Problems.Conflict("This form was already sent with other values, and the first adjustment stands; reload the page to make another.");
        }
        return await AfterChangeAsync(id, result, ct);
    }

    public async Task<IActionResult> OnPostEditAsync(long id, string? name, string? phone, CancellationToken ct)
    {
        // The edit replaces both fields, and the form always sends both (blank clears one): a post
        // missing either would clear what the operator never saw.
        if (!Request.HasFormContentType || !Request.Form.ContainsKey("name") || !Request.Form.ContainsKey("phone"))
            return await AfterChangeAsync(id, Problems.Invalid("The form came without its name and phone fields; reload the page and save again."), ct);
        var result = (await MembersApi.EditAsync(id, new EditMemberRequest(name, phone), db, User, clock, ct)).Result;
        return await AfterChangeAsync(id, result, ct);
    }

    /// <summary>The cycle "now" falls in, and its uses; null outside the card's validity.</summary>
    public (int? Cycle, int Uses) CurrentCycle(UsageEntryView e)
    {
        if (_now < e.BeginTime || _now > e.EndTime)
            return (null, 0);
        var cycle = CardCalendar.CycleOf(_now, e.BeginTime, e.CycleDays, CardZone(e.MemberCardId));
        return (cycle, _cycleUses.GetValueOrDefault((e.Id, cycle)));
    }

    public string Local(long epochMs) => Local(epochMs, _zone);

    /// <summary>An instant in the business zone, as the ledger and the lots show it.</summary>
    public string Local(DateTimeOffset instant) => Local(instant.ToUnixTimeMilliseconds(), _zone);

    /// <summary>A card's times on its own calendar, the zone it was sold in.</summary>
    public string Local(long epochMs, string cardId) => Local(epochMs, CardZone(cardId));

    private TimeZoneInfo CardZone(string cardId) => BusinessZone.FromSetting(_cardZones.GetValueOrDefault(cardId));

    private static string Local(long epochMs, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(epochMs), zone).ToString("yyyy-MM-dd HH:mm");

    private async Task<IActionResult> AfterChangeAsync(long id, IResult result, CancellationToken ct)
    {
        if (ConsoleErrors.Describe(result) is not { } error)
            return Redirect($"/console/members/{id}");
        db.ChangeTracker.Clear();
        var page = await OnGetAsync(id, null, ct);
        Error = error;
        return page;
    }
}
