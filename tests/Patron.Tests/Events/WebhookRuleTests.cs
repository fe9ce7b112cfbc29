using Patron.Events;
using Patron.Events.Webhooks;

namespace Patron.Tests.Events;

/// <summary>The dispatcher's pure rules: what an answer does to a delivery, and the retry setting.</summary>
public sealed class WebhookRuleTests
{
    private static readonly DateTimeOffset Now = new(2026, 2, 4, 4, 30, 0, TimeSpan.Zero);
    private static readonly IReadOnlyList<TimeSpan> Waits = WebhookOptions.ParseRetries(WebhookOptions.DefaultRetries)!;

    [Theory]
    [InlineData(200, 0, "D", 1, "delivered")]
    [InlineData(204, 3, "D", 4, "delivered")]
    [InlineData(410, 0, "F", 1, "gone")]
    [InlineData(500, 0, "P", 1, "retry")]
    [InlineData(301, 2, "P", 3, "retry")]
    [InlineData(null, 6, "P", 7, "retry")]
    [InlineData(500, 7, "F", 8, "failed")]
    public void AnAnswerMovesTheDeliveryOn(int? status, int attemptsBefore, string state, int attempts, string metric)
    {
        var outcome = DeliveryOutcome.Decide(status, attemptsBefore, Now.AddHours(-1), Waits, Now);
        Assert.Equal((state, attempts, metric), (outcome.State, outcome.Attempts, outcome.Metric));
        Assert.Equal(status == 410, outcome.DisablesWebhook);
        if (state == WebhookDelivery.Pending)
            Assert.Equal((Now + Waits[attempts - 1], (DateTimeOffset?)null), (outcome.DueAt, outcome.DoneAt));
        else
            Assert.Equal(Now, outcome.DoneAt);
    }

    [Fact]
    public void TheDefaultRetriesAreTheIssuesSchedule() =>
        Assert.Equal([TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(5),
            TimeSpan.FromHours(10), TimeSpan.FromHours(10)], Waits);

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5s,,1m")]
    [InlineData("0s")]
    [InlineData("-5s")]
    [InlineData("5w")]
    public void ARetrySettingThatIsNotAListOfWaitsIsRefused(string text)
    {
        Assert.Null(WebhookOptions.ParseRetries(text));
        Assert.False(new WebhookOptions { Retries = text }.IsValid());
    }
}
