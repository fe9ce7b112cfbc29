using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Channels;
using Patron.Data;

namespace Patron.Console.Pages;

public sealed class ChannelsModel(PatronDb db, ChannelDirectory channels, ChannelSecrets secrets, TimeProvider clock) : PageModel
{
    public List<ChannelResponse> Channels { get; private set; } = [];

    /// <summary>New keys, rendered in this one answer and nowhere else.</summary>
    public ChannelKeys? Keys { get; private set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => Channels = (await ChannelsApi.ListAsync(db, ct)).Value!;

    public async Task<IActionResult> OnPostAsync(string name, string? cipher, string[] scopes, CancellationToken ct) =>
        await ShowAsync((await ChannelsApi.CreateAsync(new ChannelRequest(name ?? "", cipher, scopes), db, channels, secrets, User, clock, ct)).Result, ct);

    public async Task<IActionResult> OnPostScopesAsync(string name, string[] scopes, CancellationToken ct) =>
        await ShowAsync((await ChannelsApi.EditAsync(name, new ChannelEditRequest(null, scopes), db, channels, User, clock, ct)).Result, ct);

    /// <summary>
    /// A field that is not plain digits is sent as -1, which every limit refuses with the limit's own
    /// words; a blank day count is 0, refused as an age bound and meaning "at once" as pendingDays.
    /// A blank expiry returns the channel to the catalog's.
    /// </summary>
    public async Task<IActionResult> OnPostSettingsAsync(string name, string? billNumIsKey, string? maxUseAgeDays, string? maxSaleAgeDays,
        string? perSecond, string? burst, string? pendingDays, string? expiry, CancellationToken ct)
    {
        // An unticked checkbox sends nothing; anything but "true" or "false" is not a tick.
        if (billNumIsKey is not (null or "true" or "false"))
            return await ShowAsync(TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["billNumIsKey"] = ["true or false"] }), ct);
        static int? Number(string? text) => string.IsNullOrWhiteSpace(text) ? null
            : text.Trim() is { Length: <= 9 } digits && digits.All(char.IsAsciiDigit) ? int.Parse(digits, CultureInfo.InvariantCulture) : -1;
        var request = new ChannelEditRequest(null, null, billNumIsKey == "true", Number(maxUseAgeDays) ?? 0, Number(maxSaleAgeDays) ?? 0,
            new ChannelRateLimit(Number(perSecond), Number(burst)), Number(pendingDays) ?? 0, expiry ?? "");
        return await ShowAsync((await ChannelsApi.EditAsync(name, request, db, channels, User, clock, ct)).Result, ct);
    }

    public async Task<IActionResult> OnPostRotateAsync(string name, CancellationToken ct) =>
        await ShowAsync((await ChannelsApi.RotateAsync(name, db, channels, secrets, User, clock, ct)).Result, ct);

    private async Task<IActionResult> ShowAsync(IResult result, CancellationToken ct)
    {
        Keys = result switch { Created<ChannelKeys> c => c.Value, Ok<ChannelKeys> o => o.Value, _ => null };
        Error = ConsoleErrors.Describe(result);
        db.ChangeTracker.Clear();
        await OnGetAsync(ct);
        return Page();
    }
}
