using Patron.Cards;

namespace Patron.Tests.Cards;

/// <summary>The most a sale may be refunded under each refund policy, without storage.</summary>
public sealed class RefundAllowanceTests
{
    [Theory]
    [InlineData("full", "11.22", 5, 8, "11.22")]
    [InlineData("prorated", "11.22", 0, 8, "11.22")]
    [InlineData("prorated", "11.22", 3, 8, "7.01")] // 7.0125
    [InlineData("prorated", "11.22", 3, 14, "8.81")] // 8.8157…
    [InlineData("prorated", "0.05", 1, 3, "0.03")] // 0.0333…
    [InlineData("prorated", "10.00", 1, 3, "6.66")] // 6.666…: never rounded up
    [InlineData("prorated", "11.22", 8, 8, "0.00")]
    [InlineData("prorated", "11.22", 9, 8, "0.00")] // more uses counted than allowed: nothing left, never negative
    [InlineData("prorated", "9999999999999999.99", 1, 3, "6666666666666666.66")]
    [InlineData("prorated", "11.22", 0, 0, "11.22")] // a card without products: nothing to prorate by
    [InlineData("refuseIfUsed", "11.22", 0, 8, "11.22")]
    public void TheAllowanceIsExactAndRoundedDownToTheCent(string policy, string paid, int used, int total, string allowed)
    {
        var outcome = RefundAllowance.Of(policy, decimal.Parse(paid, System.Globalization.CultureInfo.InvariantCulture), new SaleUsage(used, total));

        Assert.Null(outcome.Failure);
        Assert.Equal(allowed, RefundAllowance.Money(outcome.Value));
    }

    [Fact]
    public void RefuseIfUsedRefusesAnyRefundOnceUsedNamingRefundAmt()
    {
        var outcome = RefundAllowance.Of(RefundPolicies.RefuseIfUsed, 11.22m, new SaleUsage(1, 8));

        Assert.Equal(ErrorCode.InvalidParameter, outcome.Failure?.Code);
        Assert.StartsWith("refundAmt:", outcome.Failure!.Message);
    }
}
