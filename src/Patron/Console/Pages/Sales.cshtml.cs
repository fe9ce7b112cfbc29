using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Patron.Cards;
using Patron.Data;

namespace Patron.Console.Pages;

/// <summary>The sales and uses lists' filter: business days, channel, restaurant.</summary>
public sealed class Filter
{
    public DateOnly? From { get; set; }
    public DateOnly? To { get; set; }
    public string? Channel { get; set; }
    public string? Restaurant { get; set; }
    public TimeZoneInfo Zone { get; set; } = TimeZoneInfo.Utc;

    public string Query(long? before = null) => QueryString.Create(new Dictionary<string, string?>
    {
        ["from"] = From?.ToString("yyyy-MM-dd"), ["to"] = To?.ToString("yyyy-MM-dd"), ["channel"] = Channel,
        ["restaurant"] = Restaurant, ["before"] = before?.ToString(),
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToString();

    public string Local(long epochMs) => TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(epochMs), Zone).ToString("yyyy-MM-dd HH:mm:ss");
}

public sealed class SalesModel(PatronDb db) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Filter Filter { get; set; } = new();

    public SalesPage Results { get; private set; } = null!;

    public async Task OnGetAsync(long? before, CancellationToken ct)
    {
        Filter.Zone = await BusinessZone.LoadAsync(db, ct);
        Results = ((Ok<SalesPage>)(await SalesApi.ListSalesAsync(Filter.From, Filter.To, Filter.Channel, Filter.Restaurant, before, 50, db, ct)).Result).Value!;
    }
}

public sealed class UsesModel(PatronDb db) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Filter Filter { get; set; } = new();

    public UsesPage Results { get; private set; } = null!;

    public async Task OnGetAsync(long? before, CancellationToken ct)
    {
        Filter.Zone = await BusinessZone.LoadAsync(db, ct);
        Results = (await SalesApi.ListUsesAsync(Filter.From, Filter.To, Filter.Channel, Filter.Restaurant, before, 50, db, ct)).Value!;
    }
}
