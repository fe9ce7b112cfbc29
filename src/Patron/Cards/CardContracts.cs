using System.Text.Json;
using System.Text.Json.Serialization;

namespace Patron.Cards;

/// <summary>A memberUsedList entry, every field of the seed's response table. Times are epoch ms.</summary>
public sealed record UsageEntryView(
    int LastCycle, string SaleOrgCode, int TotalUsedNum, int LastCycleUsed, string Posid, int CycleDays, string SaleUser,
    string CardProductName, long CreateTime, string MemberCardId, int CycleNum, int HasUsedNum, int LockVersion,
    string CardProductId, string CreateUser, long BeginTime, long EndTime, string Id, string MemberId, string Status);

/// <summary>A member card, every field of the seed's response table, plus its code and the card's name.</summary>
public record MemberCardView(
    string CardInfoId, IReadOnlyList<UsageEntryView> MemberUsedList, string SaleOrgCode, decimal PayAmt, string SaleNo,
    long SaleTime, string SaleUser, long CreateTime, string SaleChannel, int LockVersion, string CreateUser,
    long BeginTime, long EndTime, string Id, string MemberId, string Status, string CardCode, string CardName);

/// <summary>The seed's <c>list</c>: the codes issued for one card.</summary>
public sealed record CouponList(string CpnId, IReadOnlyList<string> CpnCodes);

/// <summary>
/// sendMncardForSale's answer: the first card's fields, then <c>list</c> (the card sold and the
/// codes issued) and every card in <c>cards</c>.
/// </summary>
public sealed record SaleAnswer : MemberCardView
{
    public SaleAnswer(IReadOnlyList<MemberCardView> cards) : base(cards[0]) =>
        (List, Cards) = ([new CouponList(cards[0].CardInfoId, [.. cards.Select(c => c.Id)])], cards);

    [JsonPropertyOrder(1)]
    public IReadOnlyList<CouponList> List { get; }

    [JsonPropertyOrder(2)]
    public IReadOnlyList<MemberCardView> Cards { get; }
}

public sealed record RefundView(string SaleNo, string Status, decimal? RefundAmt, long? RefundTime, IReadOnlyList<MemberCardView> Cards);

public sealed record CardProductView(string Id, string Name, int TotalUsedNum, int CycleDays, int CycleNum);

/// <summary>A card's definition; <c>refund</c> is how a partly used sale of it is refunded (<see cref="RefundPolicies"/>).</summary>
public sealed record CardView(string Id, string Name, decimal Price, int ValidDays, bool OnSale, IReadOnlyList<CardProductView> Products, string Refund);

public sealed record SaleView(
    string SaleNo, string Channel, string CardInfoId, string MemberId, int Num, decimal PayAmt, long SaleTime,
    string? SaleUser, string? SaleOrgCode, string Status, decimal? RefundAmt, long? RefundTime, IReadOnlyList<MemberCardView> Cards);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MemberCardView))]
[JsonSerializable(typeof(List<MemberCardView>))]
[JsonSerializable(typeof(UsageEntryView))]
[JsonSerializable(typeof(SaleAnswer))]
[JsonSerializable(typeof(RefundView))]
public sealed partial class CardJson : JsonSerializerContext;

/// <summary>What a card's view shows of its sale: a list of cards reads these, not the sale's kept answers.</summary>
public readonly record struct SaleOfCard(string ChannelName, string SaleNo, decimal PayAmt, long SaleTime, string? SaleUser, string? SaleOrgCode)
{
    public static implicit operator SaleOfCard(CardSale s) => new(s.ChannelName, s.SaleNo, s.PayAmt, s.SaleTime, s.SaleUser, s.SaleOrgCode);
}

public static class CardViews
{
    /// <summary>
    /// A member card as of <paramref name="now"/>, which decides its status (<see cref="CardRules.Status(MemberCard, long)"/>),
    /// its entries in product id order. A card list makes one a card, so no LINQ here: its closures,
    /// iterators and sorter were a third of what a card list allocated.
    /// </summary>
    public static MemberCardView ToView(this MemberCard card, SaleOfCard sale, string cardName, long now)
    {
        var entries = new List<UsageEntryView>(card.Entries.Count);
        foreach (var e in card.Entries)
            entries.Add(e.ToView(card, sale, now));
        // A card has one entry a product, so this sort, though not stable, orders them as OrderBy did.
        entries.Sort(static (a, b) => string.CompareOrdinal(a.CardProductId, b.CardProductId));
        return new(card.CardInfoId, entries, sale.SaleOrgCode ?? "", sale.PayAmt, sale.SaleNo, sale.SaleTime, sale.SaleUser ?? "",
            card.CreateTime, sale.ChannelName, card.LockVersion, sale.ChannelName, card.BeginTime, card.EndTime, card.Id, card.MemberCode,
            Status(CardRules.Status(card, now)), card.Id, cardName);
    }

    public static UsageEntryView ToView(this UsageEntry e, MemberCard card, SaleOfCard sale, long now) => new(
        e.LastCycle, sale.SaleOrgCode ?? "", e.TotalUsedNum, e.LastCycleUsed, e.Posid ?? "", e.CycleDays, sale.SaleUser ?? "",
        e.CardProductName, e.CreateTime, e.MemberCardId, e.CycleNum, e.HasUsedNum, e.LockVersion, e.CardProductId,
        sale.ChannelName, e.BeginTime, e.EndTime, e.Id, card.MemberCode, Status(CardRules.Status(e, card, now)));

    /// <summary>
    /// A card's view as it was kept at its sale, with its statuses brought to <paramref name="now"/>:
    /// the counts stay the sale's, so only a refund or the clock can void it here.
    /// </summary>
    public static MemberCardView AsOf(this MemberCardView kept, bool refunded, long now)
    {
        int Kept(string status) => refunded || status != "1" ? CardStatus.Void : CardStatus.Effective;
        List<UsageEntryView> entries = [.. kept.MemberUsedList.Select(e => e with
        {
            Status = Status(CardRules.Status(Kept(e.Status), e.EndTime, CardRules.UsedUp(e.HasUsedNum, e.TotalUsedNum), now)),
        })];
        var usedUp = CardRules.UsedUp(entries, static e => (e.HasUsedNum, e.TotalUsedNum));
        return kept with { MemberUsedList = entries, Status = Status(CardRules.Status(Kept(kept.Status), kept.EndTime, usedUp, now)) };
    }

    public static SaleView ToView(this CardSale s, IEnumerable<MemberCardView> cards) => new(
        s.SaleNo, s.ChannelName, s.CardInfoId, s.MemberCode, s.Num, s.PayAmt, s.SaleTime, s.SaleUser, s.SaleOrgCode,
        Status(s.Status), s.RefundAmt, s.RefundTime, [.. cards]);

    public static CardView ToView(this Card c) => new(c.Id, c.Name, c.Price, c.ValidDays, c.OnSale,
        [.. c.Products.OrderBy(p => p.Id, StringComparer.Ordinal).Select(p => new CardProductView(p.Id, p.Name, p.TotalUsedNum, p.CycleDays, p.CycleNum))],
        c.RefundPolicy);

    /// <summary>The seed writes statuses as strings: "1" effective, "2" void.</summary>
    public static string Status(int status) => status.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
