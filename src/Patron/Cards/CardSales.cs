using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Patron.Channels;
using Patron.Compat;
using Patron.Data;
using Patron.Members;

namespace Patron.Cards;

public sealed record SaleRequest(string CardInfoId, long SaleTime, string? SaleUser, string? SaleOrgCode, decimal PayAmt,
    string SaleNo, string MemberId, int Num)
{
    public const int MaxNum = 100;

    public string Hash() => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n',
        CardInfoId, SaleTime, SaleUser, SaleOrgCode, PayAmt.ToString("0.00", CultureInfo.InvariantCulture), MemberId, Num))));
}

/// <summary>Selling and refunding times-cards: each one transaction, settled by the database.</summary>
public sealed class CardSales(PatronDb db, TimeProvider clock) : ICardSales
{
    public async Task<Outcome<string>> SellAsync(Channel channel, SaleRequest request, CancellationToken ct)
    {
        var hash = request.Hash();
        for (var attempt = 0; ; attempt++)
        {
            var earlier = await db.CardSales.AsNoTracking().SingleOrDefaultAsync(s => s.ChannelId == channel.Id && s.SaleNo == request.SaleNo, ct);
            if (earlier is not null)
                return earlier.RequestHash == hash
                    ? Replay(earlier)
                    : Reused(request);

            var member = await MemberLookup.FindAsync(db, request.MemberId, ct);
            if (member is null)
                return new Failure(ErrorCode.MemberNotFound, $"member {request.MemberId} not found");
            var card = await db.Cards.AsNoTracking().Include(c => c.Products).SingleOrDefaultAsync(c => c.Id == request.CardInfoId, ct);
            if (card is not { OnSale: true })
                return new Failure(ErrorCode.CardNotFound, $"card {request.CardInfoId} not found or not on sale");

            try
            {
                return await IssueAsync(channel, request, hash, member, card, ct);
            }
            catch (DbUpdateException e) when (db.IsUniqueViolation(e) && attempt < 3)
            {
                // Another request took this saleNo first (or, once in 2^60, a code collided): look again.
                db.ChangeTracker.Clear();
            }
        }
    }

    private async Task<string> IssueAsync(Channel channel, SaleRequest request, string hash, Member member, Card card, CancellationToken ct)
    {
        var zone = await BusinessZone.LoadAsync(db, ct);
        var (sale, cards, answer) = Issue(channel, request, hash, member, card, zone, clock.GetUtcNow().ToUnixTimeMilliseconds());

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.CardSales.Add(sale);
        await db.SaveChangesAsync(ct); // the unique (channel, saleNo) index decides a race here
        foreach (var c in cards)
            c.SaleId = sale.Id;
        db.MemberCards.AddRange(cards);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return answer;
    }

    /// <summary>
    /// A sale, its <c>num</c> new cards with an entry per product, and the answer as JSON text (the
    /// first card, <c>list</c> and <c>cards</c>). The sale's <c>ResultJson</c> keeps the cards alone,
    /// for a partner that retries (<see cref="Replay"/>). Stores nothing.
    /// </summary>
    public static (CardSale Sale, List<MemberCard> Cards, string Answer) Issue(Channel channel, SaleRequest request, string hash,
        Member member, Card card, TimeZoneInfo zone, long now)
    {
        var (begin, end) = CardCalendar.Validity(request.SaleTime, card.ValidDays, zone);
        var sale = new CardSale
        {
            ChannelId = channel.Id, ChannelName = channel.Name, SaleNo = request.SaleNo, CardInfoId = card.Id,
            MemberId = member.Id, MemberCode = member.Code, Num = request.Num, PayAmt = request.PayAmt, SaleTime = request.SaleTime,
            SaleUser = request.SaleUser, SaleOrgCode = request.SaleOrgCode, CreateTime = now, RequestHash = hash, ResultJson = "",
        };
        var cards = Enumerable.Range(0, request.Num).Select(_ => NewCard(card, member, begin, end, now)).ToList();
        List<MemberCardView> views = [.. cards.Select(c => c.ToView(sale, card.Name))];
        sale.ResultJson = OpenApiResult.JsonText(views, CardJson.Default.ListMemberCardView);
        return (sale, cards, OpenApiResult.JsonText(new SaleAnswer(views), CardJson.Default.SaleAnswer));
    }

    /// <summary>
    /// The answer a sale gave, for a retry of it: rebuilt from the cards it keeps, a JSON array. The
    /// answer repeats the first card's fields, so keeping the cards alone saves about 0.9 KB of the
    /// 3.3 KB a sale of one card wrote to PostgreSQL's log. Versions before this kept the whole
    /// answer, a JSON object, which is given back as it is. A kept array that cannot be read fails
    /// this retry alone (5000), not the batch it is in.
    /// </summary>
    public static Outcome<string> Replay(CardSale sale)
    {
        if (!sale.ResultJson.StartsWith('['))
            return sale.ResultJson;
        try
        {
            var cards = JsonSerializer.Deserialize(sale.ResultJson, CardJson.Default.ListMemberCardView);
            if (cards is { Count: > 0 } && !cards.Contains(null!))
                return OpenApiResult.JsonText(new SaleAnswer(cards), CardJson.Default.SaleAnswer);
        }
        catch (JsonException)
        {
        }
        return new Failure(ErrorCode.Internal, $"the answer kept for saleNo {sale.SaleNo} cannot be read");
    }

    /// <summary>A saleNo sold before with other content.</summary>
    public static Failure Reused(SaleRequest request) =>
        new(ErrorCode.SaleNoReused, $"saleNo {request.SaleNo} was already used for a different sale");

    private static MemberCard NewCard(Card card, Member member, long begin, long end, long now)
    {
        var code = CardCodes.New('L');
        return new MemberCard
        {
            Id = code, CardInfoId = card.Id, MemberId = member.Id, MemberCode = member.Code, BeginTime = begin, EndTime = end, CreateTime = now,
            Entries = [.. card.Products.Select(p => new UsageEntry
            {
                Id = CardCodes.New('U'), MemberCardId = code, CardProductId = p.Id, CardProductName = p.Name,
                TotalUsedNum = p.TotalUsedNum, CycleDays = p.CycleDays, CycleNum = p.CycleNum,
                BeginTime = begin, EndTime = end, CreateTime = now,
            })],
        };
    }

    /// <summary>Voids a sale's cards and entries; refunding twice changes nothing more.</summary>
    public async Task<Outcome<RefundView>> RefundAsync(Channel channel, string saleNo, decimal? refundAmt, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var sale = await db.CardSales.SingleOrDefaultAsync(s => s.ChannelId == channel.Id && s.SaleNo == saleNo, ct);
            if (sale is null)
                return new Failure(ErrorCode.MemberCardNotFound, $"sale {saleNo} not found");
            if (refundAmt > sale.PayAmt)
                return Failure.Invalid("refundAmt", $"more than the {sale.PayAmt.ToString(CultureInfo.InvariantCulture)} paid");
            var cards = await db.MemberCards.Include(c => c.Entries).Where(c => c.SaleId == sale.Id).ToListAsync(ct);
            if (sale.Status != CardStatus.Void)
            {
                var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                (sale.Status, sale.RefundAmt, sale.RefundTime) = (CardStatus.Void, refundAmt ?? sale.PayAmt, now);
                foreach (var card in cards)
                {
                    (card.Status, card.LockVersion) = (CardStatus.Void, card.LockVersion + 1);
                    foreach (var entry in card.Entries)
                    {
                        // Bumping the version makes a use racing this refund fail its compare-and-set and look again.
                        (entry.Status, entry.LockVersion) = (CardStatus.Void, entry.LockVersion + 1);
                        db.CardUseLogs.Add(new CardUseLog { UsageEntryId = entry.Id, Kind = "refund", ChannelId = channel.Id, At = now, HasUsedNumAfter = entry.HasUsedNum });
                    }
                }
                try
                {
                    await db.SaveChangesAsync(ct);
                    await tx.CommitAsync(ct);
                }
                catch (DbUpdateConcurrencyException) when (attempt < 20)
                {
                    continue;
                }
            }
            var name = await db.Cards.Where(c => c.Id == sale.CardInfoId).Select(c => c.Name).SingleAsync(ct);
            return new RefundView(sale.SaleNo, CardViews.Status(sale.Status), sale.RefundAmt, sale.RefundTime,
                [.. cards.OrderBy(c => c.Id, StringComparer.Ordinal).Select(c => c.ToView(sale, name))]);
        }
    }
}
