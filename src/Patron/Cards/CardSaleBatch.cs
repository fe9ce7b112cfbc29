using Patron.Channels;
using Patron.Members;

namespace Patron.Cards;

/// <summary>Sells times-cards: one at a time (<see cref="CardSales"/>) or through group commit.</summary>
public interface ICardSales
{
    /// <summary>The sale's answer as JSON text: the same text a retry of it gets.</summary>
    Task<Outcome<string>> SellAsync(Channel channel, SaleRequest request, CancellationToken ct);
}

public sealed record SaleCall(Channel Channel, SaleRequest Request);

/// <summary>What a batch of sales reads before deciding them.</summary>
public sealed record CardSaleBatchState(
    Dictionary<(int Channel, string SaleNo), CardSale> Earlier,
    Dictionary<string, Member> MembersByCode,
    Dictionary<long, Member> MembersById,
    Dictionary<string, Card> Cards,
    TimeZoneInfo Zone);

public sealed record IssuedSale(CardSale Sale, List<MemberCard> Cards);

public sealed record CardSaleBatchPlan(Outcome<string>[] Outcomes, List<IssuedSale> Sales);

/// <summary>
/// Decides a batch of sales as if they had arrived one by one: a saleNo already sold (earlier or
/// in this batch) answers with its first result, or 2003 when the content differs; an unknown
/// member or card fails alone. Pure but for the random card codes.
/// </summary>
public static class CardSaleBatch
{
    public static CardSaleBatchPlan Decide(IReadOnlyList<SaleCall> calls, CardSaleBatchState state, long now)
    {
        var outcomes = new Outcome<string>[calls.Count];
        var sales = new List<IssuedSale>();
        var taken = new Dictionary<(int, string), (string Hash, string Answer)>();
        for (var i = 0; i < calls.Count; i++)
        {
            var (channel, request) = calls[i];
            var hash = request.Hash();
            if (state.Earlier.TryGetValue((channel.Id, request.SaleNo), out var earlier))
            {
                outcomes[i] = earlier.RequestHash == hash ? CardSales.Replay(earlier) : CardSales.Reused(request);
                continue;
            }
            if (taken.TryGetValue((channel.Id, request.SaleNo), out var first))
            {
                outcomes[i] = first.Hash == hash ? first.Answer : CardSales.Reused(request);
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

            var (sale, cards, answer) = CardSales.Issue(channel, request, hash, member, card, state.Zone, now);
            sales.Add(new IssuedSale(sale, cards));
            taken[(channel.Id, request.SaleNo)] = (hash, answer);
            outcomes[i] = answer;
        }
        return new CardSaleBatchPlan(outcomes, sales);
    }
}
