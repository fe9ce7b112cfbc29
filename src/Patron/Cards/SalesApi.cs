using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Console;
using Patron.Data;

namespace Patron.Cards;

public sealed record SaleRow(long Id, string SaleNo, string Channel, string CardInfoId, string MemberId, int Num, decimal PayAmt,
    long SaleTime, string? SaleUser, string? SaleOrgCode, string Status, decimal? RefundAmt);

public sealed record SalesPage(IReadOnlyList<SaleRow> Items, long? NextBefore);

public sealed record UseRow(long Id, string UseNo, string Channel, string MemberCardId, string UsageEntryId, string Posid,
    long UseTime, int Cycle, bool Cancelled);

public sealed record UsesPage(IReadOnlyList<UseRow> Items, long? NextBefore);

/// <summary>What was sold and used, filtered by business day (from/to, inclusive), channel and restaurant.</summary>
public static class SalesApi
{
    public static RouteGroupBuilder MapSales(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/").WithTags("Sales and uses");
        group.MapGet("/sales", ListSalesAsync);
        group.MapGet("/sales.csv", ExportSalesAsync);
        group.MapGet("/sales/{saleNo}", GetSaleAsync);
        group.MapGet("/uses", ListUsesAsync);
        return group;
    }

    public static async Task<Results<Ok<SalesPage>, ProblemHttpResult>> ListSalesAsync(
        DateOnly? from, DateOnly? to, string? channel, string? restaurant, long? before, int? limit, PatronDb db, CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? 50, 1, 200);
        var query = await FilterSalesAsync(db, from, to, channel, restaurant, ct);
        if (before is { } cursor)
            query = query.Where(s => s.Id < cursor);
        var rows = await query.OrderByDescending(s => s.Id).Take(size + 1).ToListAsync(ct);
        var page = rows.Take(size).Select(ToRow).ToList();
        return TypedResults.Ok(new SalesPage(page, rows.Count > size ? page[^1].Id : null));
    }

    /// <summary>Streamed: rows go to the response as they are read, so an export of a year's sales holds one row in memory.</summary>
    public static async Task<IResult> ExportSalesAsync(DateOnly? from, DateOnly? to, string? channel, string? restaurant, PatronDb db, CancellationToken ct)
    {
        var zone = await BusinessZone.LoadAsync(db, ct);
        var sales = (await FilterSalesAsync(db, from, to, channel, restaurant, ct)).OrderBy(s => s.Id)
            .Select(s => new { s.SaleNo, s.ChannelName, s.CardInfoId, s.MemberCode, s.Num, s.PayAmt, s.SaleTime, s.SaleUser, s.SaleOrgCode, s.Status, s.RefundAmt })
            .AsAsyncEnumerable();
        return Csv.File("sales.csv", zone,
            ["SaleNo", "Channel", "CardInfoId", "MemberId", "Num", "PayAmt", "SaleTime", "SaleUser", "SaleOrgCode", "Status", "RefundAmt"],
            sales.Select(s => new object?[]
            {
                s.SaleNo, s.ChannelName, s.CardInfoId, s.MemberCode, s.Num, s.PayAmt, DateTimeOffset.FromUnixTimeMilliseconds(s.SaleTime),
                s.SaleUser, s.SaleOrgCode, CardViews.Status(s.Status), s.RefundAmt,
            }));
    }

    /// <summary>A saleNo is unique per channel; name the channel when two channels used the same one.</summary>
    public static async Task<Results<Ok<SaleView>, ProblemHttpResult>> GetSaleAsync(string saleNo, string? channel, PatronDb db,
        TimeProvider clock, CancellationToken ct)
    {
        if (StoredText.HasNul(saleNo, channel))
            return Problems.NotFound($"There is no sale {saleNo}.");
        var sales = await db.CardSales.AsNoTracking()
            .Where(s => s.SaleNo == saleNo && (channel == null || s.ChannelName == channel)).Take(2).ToListAsync(ct);
        if (sales.Count == 0)
            return Problems.NotFound($"There is no sale {saleNo}.");
        if (sales.Count > 1)
            return Problems.Invalid($"Several channels used {saleNo}; add ?channel=NAME.");
        var sale = sales[0];
        var cards = await db.MemberCards.AsNoTracking().Include(c => c.Entries).Where(c => c.SaleId == sale.Id).OrderBy(c => c.Id).ToListAsync(ct);
        return TypedResults.Ok(sale.ToView(await CardQueries.ViewsAsync(db, cards, clock.GetUtcNow(), ct)));
    }

    public static async Task<Ok<UsesPage>> ListUsesAsync(
        DateOnly? from, DateOnly? to, string? channel, string? restaurant, long? before, int? limit, PatronDb db, CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? 50, 1, 200);
        var (start, end) = await RangeAsync(db, from, to, ct);
        var channels = await db.Channels.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, ct);
        if (StoredText.HasNul(channel, restaurant))
            return TypedResults.Ok(new UsesPage([], null));
        var query = db.CardUses.AsNoTracking().Where(u => u.UseTime >= start && u.UseTime < end);
        if (channel is not null)
        {
            var channelId = channels.FirstOrDefault(c => c.Value == channel).Key;
            query = query.Where(u => u.ChannelId == channelId);
        }
        if (restaurant is not null)
            query = query.Where(u => u.Posid == restaurant);
        if (before is { } cursor)
            query = query.Where(u => u.Id < cursor);
        var rows = await query.OrderByDescending(u => u.Id).Take(size + 1).ToListAsync(ct);
        var page = rows.Take(size).Select(u => new UseRow(u.Id, u.UseNo, channels.GetValueOrDefault(u.ChannelId, "?"), u.MemberCardId,
            u.UsageEntryId, u.Posid, u.UseTime, u.Cycle, u.CancelledAt is not null)).ToList();
        return TypedResults.Ok(new UsesPage(page, rows.Count > size ? page[^1].Id : null));
    }

    private static async Task<IQueryable<CardSale>> FilterSalesAsync(PatronDb db, DateOnly? from, DateOnly? to, string? channel, string? restaurant, CancellationToken ct)
    {
        var (start, end) = await RangeAsync(db, from, to, ct);
        if (StoredText.HasNul(channel, restaurant))
            return db.CardSales.Where(_ => false); // nothing stored holds a NUL, and PostgreSQL must not be sent one
        var query = db.CardSales.AsNoTracking().Where(s => s.SaleTime >= start && s.SaleTime < end);
        if (channel is not null)
            query = query.Where(s => s.ChannelName == channel);
        if (restaurant is not null)
            query = query.Where(s => s.SaleOrgCode == restaurant);
        return query;
    }

    /// <summary>Business days in the chain's time zone, as an epoch-ms range [start, end).</summary>
    private static async Task<(long Start, long End)> RangeAsync(PatronDb db, DateOnly? from, DateOnly? to, CancellationToken ct)
    {
        var zone = await BusinessZone.LoadAsync(db, ct);
        return (from is { } f ? CardCalendar.StartOfDay(f, zone) : long.MinValue,
                to is { } t && t < DateOnly.MaxValue ? CardCalendar.StartOfDay(t.AddDays(1), zone) : long.MaxValue); // 9999-12-31 has no next day: it was a 500
    }

    private static SaleRow ToRow(CardSale s) => new(s.Id, s.SaleNo, s.ChannelName, s.CardInfoId, s.MemberCode, s.Num, s.PayAmt,
        s.SaleTime, s.SaleUser, s.SaleOrgCode, CardViews.Status(s.Status), s.RefundAmt);
}
