using System.Text.Json.Nodes;
using Patron.Cards;
using Patron.Channels;
using Patron.Members;
using Patron.Writes;

namespace Patron.Tests.Cards;

/// <summary>How one batch of sales is decided, without storage.</summary>
public sealed class CardSaleDeciderTests
{
    private static readonly Channel Pos = new() { Id = 3, Name = "pos", ApiKeyHash = "", DesKey = "", Cipher = "des-ecb", Scopes = "" };
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    private static CardSaleBatchState State(params CardSale[] earlier)
    {
        var member = new Member { Id = 7, Code = "M0007" };
        var card = new Card { Id = "C1", Name = "月卡", ValidDays = 30, OnSale = true };
        card.Products.Add(new CardProduct { CardId = "C1", Id = "P", Name = "面", TotalUsedNum = 8, CycleDays = 7, CycleNum = 2 });
        var off = new Card { Id = "C0", Name = "停售", ValidDays = 30, OnSale = false };
        return new CardSaleBatchState(earlier.ToDictionary(s => (s.ChannelId, s.SaleNo), s => new KeptAnswer(s.RequestHash, s.ResultJson)), [], new() { ["M0007"] = member }, new() { [7] = member },
            new() { ["C1"] = card, ["C0"] = off }, Shanghai);
    }

    private static SaleCall Sale(string saleNo, string member = "M0007", string card = "C1", int num = 1, decimal pay = 11.22m) =>
        new(Pos, new SaleRequest(card, 1_767_578_400_000, "1345", "526", pay, saleNo, member, num));

    [Fact]
    public void EachSaleIsDecidedAloneAndASaleNoIssuesOneSetOfCards()
    {
        var plan = CardSaleDecider.Decide([Sale("a", num: 2), Sale("a", num: 2), Sale("a", num: 3), Sale("b", member: "7"), Sale("c", member: "X"),
            Sale("d", card: "C0"), Sale("e", card: "NONE")], State(), DateTimeOffset.FromUnixTimeMilliseconds(1_767_578_400_000));

        Assert.Equal([null, null, ErrorCode.SaleNoReused, null, ErrorCode.MemberNotFound, ErrorCode.CardNotFound, ErrorCode.CardNotFound],
            plan.Outcomes.Select(o => o.Failure?.Code));
        Assert.Equal(plan.Outcomes[0].Value, plan.Outcomes[1].Value);
        Assert.Equal(plan.Outcomes[0].Value, CardSaleDecider.Replay("a", plan.Sales[0].Sale.ResultJson, refunded: false, 1_767_578_400_000).Value); // a retry gets this answer from what the sale keeps
        Assert.Equal([2, 1], plan.Sales.Select(s => s.Cards.Count));
        Assert.All(plan.Sales.SelectMany(s => s.Cards), c => Assert.Equal(("M0007", 1), (c.MemberCode, c.Entries.Count)));
        Assert.Equal(3, plan.Sales.SelectMany(s => s.Cards).Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public void TheAnswerIsTheFirstCardThenListAndCardsWrittenAsTheEnvelopeWritesThem()
    {
        var plan = CardSaleDecider.Decide([Sale("a", num: 2)], State(), DateTimeOffset.FromUnixTimeMilliseconds(1_767_578_400_000));
        var json = plan.Outcomes[0].Value!;
        var answer = JsonNode.Parse(json)!.AsObject();

        var cards = plan.Sales[0].Cards;
        var first = answer["cards"]!.AsArray()[0]!.AsObject();
        Assert.Equal([.. first.Select(p => p.Key), "list", "cards"], answer.Select(p => p.Key));
        Assert.All(first, p => Assert.True(JsonNode.DeepEquals(p.Value, answer[p.Key]), p.Key));
        Assert.Equal(cards[0].Id, answer["id"]!.GetValue<string>());
        Assert.Equal([cards[0].Id, cards[1].Id], answer["cards"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        Assert.Equal("C1", answer["list"]![0]!["cpnId"]!.GetValue<string>());
        Assert.Equal([cards[0].Id, cards[1].Id], answer["list"]![0]!["cpnCodes"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Contains("\"cardName\":\"月卡\"", json); // as the envelope writes letters: not \u-escaped
        Assert.Equal(11.22m, answer["payAmt"]!.GetValue<decimal>());
    }

    [Fact]
    public void ASaleKeepsItsCardsAloneFromWhichARetryGetsTheSameAnswerText()
    {
        var plan = CardSaleDecider.Decide([Sale("a", num: 2, pay: 10.00m)], State(), DateTimeOffset.FromUnixTimeMilliseconds(1_767_578_400_000));
        var sale = plan.Sales[0].Sale;

        var kept = JsonNode.Parse(sale.ResultJson)!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(plan.Outcomes[0].Value!)!["cards"], kept), "what is kept is the answer's cards");
        var retry = CardSaleDecider.Decide([Sale("a", num: 2, pay: 10.00m)], State(sale), DateTimeOffset.FromUnixTimeMilliseconds(1_767_578_500_000));
        Assert.Equal(plan.Outcomes[0].Value, retry.Outcomes[0].Value);
        Assert.Empty(retry.Sales);
    }

    [Theory]
    [InlineData("[{\"id\":")]
    [InlineData("[]")]
    [InlineData("[null]")]
    public void AKeptAnswerThatCannotBeReadFailsItsRetryAloneAnd5000(string kept)
    {
        var stored = new CardSale { ChannelId = 3, SaleNo = "a", RequestHash = Sale("a").Request.Hash(), ResultJson = kept,
            ChannelName = "pos", CardInfoId = "C1", MemberCode = "M0007" };

        var plan = CardSaleDecider.Decide([Sale("a"), Sale("b")], State(stored), DateTimeOffset.FromUnixTimeMilliseconds(1_767_578_400_000));

        Assert.Equal(ErrorCode.Internal, plan.Outcomes[0].Failure?.Code);
        Assert.Null(plan.Outcomes[1].Failure);
        Assert.Equal(["b"], plan.Sales.Select(s => s.Sale.SaleNo));
    }

    [Fact]
    public void ASaleNoAlreadyStoredIsReplayedOrRefused()
    {
        var stored = new CardSale { ChannelId = 3, SaleNo = "a", RequestHash = Sale("a").Request.Hash(), ResultJson = """{"id":"LSTORED"}""",
            ChannelName = "pos", CardInfoId = "C1", MemberCode = "M0007" };

        var plan = CardSaleDecider.Decide([Sale("a"), Sale("a", pay: 1m)], State(stored), DateTimeOffset.FromUnixTimeMilliseconds(1_767_578_400_000));

        Assert.Equal("""{"id":"LSTORED"}""", plan.Outcomes[0].Value);
        Assert.Equal(ErrorCode.SaleNoReused, plan.Outcomes[1].Failure?.Code);
        Assert.Empty(plan.Sales);
    }
}
