using System.Globalization;
using System.Numerics;

namespace Patron.Cards;

/// <summary>How far a sale's cards were used: the uncancelled uses and the uses in all, over every card and product.</summary>
public readonly record struct SaleUsage(int Used, int Total)
{
    public int Left => Math.Max(0, Total - Used);

    public static SaleUsage Of(IEnumerable<(int HasUsedNum, int TotalUsedNum)> entries) =>
        entries.Aggregate(new SaleUsage(0, 0), (sum, e) => new SaleUsage(sum.Used + e.HasUsedNum, sum.Total + e.TotalUsedNum));

    public static SaleUsage Of(IEnumerable<UsageEntry> entries) => Of(entries.Select(e => (e.HasUsedNum, e.TotalUsedNum)));

    public static SaleUsage Of(IEnumerable<UsageEntryView> entries) => Of(entries.Select(e => (e.HasUsedNum, e.TotalUsedNum)));
}

/// <summary>The most a sale may be refunded under its card's refund policy (<see cref="RefundPolicies"/>). Pure.</summary>
public static class RefundAllowance
{
    public static Outcome<decimal> Of(string policy, decimal payAmt, SaleUsage usage) => policy switch
    {
        RefundPolicies.RefuseIfUsed when usage.Used > 0 => Failure.Invalid("refundAmt",
            $"no refund once the card is used ({usage.Used} of {usage.Total} uses made; the refund policy is refuseIfUsed)"),
        RefundPolicies.Prorated when usage.Total > 0 => Prorated(payAmt, usage),
        _ => payAmt,
    };

    /// <summary>
    /// payAmt × left ÷ total, rounded down to the cent: rounding up or to nearest could refund a
    /// fraction of a cent more than the uses left are worth, and the business never refunds more
    /// than the proportion. Computed on whole cents as integers, so no step rounds on its own.
    /// </summary>
    private static decimal Prorated(decimal payAmt, SaleUsage usage)
    {
        var cents = new BigInteger(decimal.Truncate(payAmt * 100m));
        return (decimal)BigInteger.Divide(cents * usage.Left, usage.Total) / 100m;
    }

    /// <summary>The 1004 a refund of more than the policy allows gets, naming refundAmt and the amount allowed.</summary>
    public static Failure TooMuch(string policy, decimal allowed, SaleUsage usage) => Failure.Invalid("refundAmt",
        $"at most {Money(allowed)} under the {policy} refund policy ({usage.Left} of {usage.Total} uses left)");

    public static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);
}
