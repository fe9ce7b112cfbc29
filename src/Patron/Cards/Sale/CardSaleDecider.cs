using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Patron.Channels;
using Patron.Compat;
using Patron.Events;
using Patron.Members;
using Patron.Writes;

namespace Patron.Cards;

public sealed record SaleRequest(string CardInfoId, long SaleTime, string? SaleUser, string? SaleOrgCode, decimal PayAmt,
    string SaleNo, string MemberId, int Num)
{
    public const int MaxNum = 100;

    public string Hash() => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n',
        CardInfoId, SaleTime, SaleUser, SaleOrgCode, PayAmt.ToString("0.00", CultureInfo.InvariantCulture), MemberId, Num))));
}

public sealed record SaleCall(Channel Channel, SaleRequest Request);

/// <summary>
/// What a batch of sales reads: the answers kept under its saleNos and which of those sales are
/// refunded, its members (by code or id), its cards, the zone.
/// </summary>
public sealed record CardSaleBatchState(
    Dictionary<(int Channel, string SaleNo), KeptAnswer> Earlier,
    HashSet<(int Channel, string SaleNo)> Refunded,
    Dictionary<string, Member> MembersByCode,
    Dictionary<long, Member> MembersById,
    Dictionary<string, Card> Cards,
    TimeZoneInfo Zone);

public sealed record IssuedSale(CardSale Sale, List<MemberCard> Cards);

public sealed record CardSaleBatchPlan(Outcome<string>[] Outcomes, List<IssuedSale> Sales, List<OutboxEvent> Events) : IWritePlan<Outcome<string>>;

/// <summary>
/// Decides a batch of sales as if they had arrived one by one: a saleNo already sold (earlier or
/// in this batch) answers with its first result, or 2003 when the content differs, whatever has
/// happened to the member or the card since; an unknown member or card fails alone. Pure but for
/// the random card codes.
/// </summary>
public static class CardSaleDecider
{
    public static CardSaleBatchPlan Decide(IReadOnlyList<SaleCall> calls, CardSaleBatchState state, DateTimeOffset at)
    {
        var now = at.ToUnixTimeMilliseconds();
        var outcomes = new Outcome<string>[calls.Count];
        var sales = new List<IssuedSale>();
        var events = new List<OutboxEvent>();
        var taken = new Dictionary<(int, string), (string Hash, string Answer)>();
        for (var i = 0; i < calls.Count; i++)
        {
            var (channel, request) = calls[i];
            var hash = request.Hash();
            if (state.Earlier.TryGetValue((channel.Id, request.SaleNo), out var earlier))
            {
                outcomes[i] = earlier.RequestHash == hash
                    ? Replay(request.SaleNo, earlier.Json, state.Refunded.Contains((channel.Id, request.SaleNo)), now)
                    : Reused(request);
                continue;
            }
            if (taken.TryGetValue((channel.Id, request.SaleNo), out var first))
            {
                outcomes[i] = first.Hash == hash ? first.Answer : Reused(request);
                continue;
            }
            if (CardTimes.TooOld("saleTime", request.SaleTime, channel.MaxSaleAgeDays, now) is { } tooOld)
            {
                outcomes[i] = tooOld;
                continue;
            }
            var member = state.MembersByCode.GetValueOrDefault(request.MemberId)
                ?? (long.TryParse(request.MemberId, out var id) ? state.MembersById.GetValueOrDefault(id) : null);
            if (member is null)
            {
                outcomes[i] = new Failure(ErrorCode.MemberNotFound, $"member {request.MemberId} not found");
                continue;
            }
            if (state.Cards.GetValueOrDefault(request.CardInfoId) is not { OnSale: true } card)
            {
                outcomes[i] = new Failure(ErrorCode.CardNotFound, $"card {request.CardInfoId} not found or not on sale");
                continue;
            }

            var (sale, cards, answer) = Issue(channel, request, hash, member, card, state.Zone, now);
            sales.Add(new IssuedSale(sale, cards));
            events.Add(OutboxEvents.Sold(sales[^1]));
            taken[(channel.Id, request.SaleNo)] = (hash, answer);
            outcomes[i] = answer;
        }
        return new CardSaleBatchPlan(outcomes, sales, events);
    }

    /// <summary>
    /// A sale, its <c>num</c> new cards with an entry per product, and the answer as JSON text (the
    /// first card, <c>list</c> and <c>cards</c>). The sale keeps the cards alone, from which a retry's
    /// answer is rebuilt (<see cref="Replay"/>): the answer repeats the first card.
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
        var cards = Enumerable.Range(0, request.Num).Select(_ => NewCard(card, member, begin, end, zone, now)).ToList();
        List<MemberCardView> views = [.. cards.Select(c => c.ToView(sale, card.Name, now))];
        sale.ResultJson = OpenApiResult.JsonText(views, CardJson.Default.ListMemberCardView);
        return (sale, cards, OpenApiResult.JsonText(new SaleAnswer(views), CardJson.Default.SaleAnswer));
    }

    /// <summary>
    /// The answer a sale gave, for a retry of it, rebuilt from the cards it keeps (a JSON array), with
    /// each status as of <paramref name="now"/> (<see cref="CardViews.AsOf"/>). A kept JSON object is a
    /// whole answer, as some sales keep it, given back as it is. A kept array that cannot be read fails
    /// this retry alone (5000), not the batch it is in.
    /// </summary>
    public static Outcome<string> Replay(string saleNo, string kept, bool refunded, long now)
    {
        if (!kept.StartsWith('['))
            return kept;
        try
        {
            var cards = JsonSerializer.Deserialize(kept, CardJson.Default.ListMemberCardView);
            if (cards is { Count: > 0 } && !cards.Contains(null!))
                return OpenApiResult.JsonText(new SaleAnswer([.. cards.Select(c => c.AsOf(refunded, now))]), CardJson.Default.SaleAnswer);
        }
        catch (JsonException)
        {
        }
        return new Failure(ErrorCode.Internal, $"the answer kept for saleNo {saleNo} cannot be read");
    }

    /// <summary>A saleNo sold before with other content.</summary>
    public static Failure Reused(SaleRequest request) =>
        new(ErrorCode.SaleNoReused, $"saleNo {request.SaleNo} was already used for a different sale");

    private static MemberCard NewCard(Card card, Member member, long begin, long end, TimeZoneInfo zone, long now)
    {
        var code = CardCodes.New('L');
        return new MemberCard
        {
            Id = code, CardInfoId = card.Id, MemberId = member.Id, MemberCode = member.Code, BeginTime = begin, EndTime = end, CreateTime = now,
            TimeZone = zone.Id,
            Entries = [.. card.Products.Select(p => new UsageEntry
            {
                Id = CardCodes.New('U'), MemberCardId = code, CardProductId = p.Id, CardProductName = p.Name,
                TotalUsedNum = p.TotalUsedNum, CycleDays = p.CycleDays, CycleNum = p.CycleNum,
                BeginTime = begin, EndTime = end, CreateTime = now,
            })],
        };
    }
}
