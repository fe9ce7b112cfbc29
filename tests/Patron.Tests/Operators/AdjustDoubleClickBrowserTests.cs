using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Operators;

/// <summary>An operator's impatient second click on the adjust button, in headless Chromium.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class AdjustDoubleClickBrowserTests(Chromium chromium, ITestOutputHelper output) : BrowserTest(chromium, output)
{
    /// <summary>
    /// The first answer is held back on its way to the browser, as a slow line would, so the second
    /// click sends the form again. (Chromium folds a double click's two submissions into one when
    /// the first has not left yet: without the hold, the browser sends a single POST.)
    /// </summary>
    [BrowserFact]
    public async Task ClickingAdjustTwiceBeforeTheAnswerAddsOneLedgerRow()
    {
        await SignInAsync();
        await Page.GotoAsync("/console/members/12");
        var served = 0;
        var firstServed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondServed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await Page.RouteAsync(url => url.Contains("handler=Adjust", StringComparison.Ordinal), async route =>
        {
            var answer = await route.FetchAsync(new() { MaxRedirects = 0 });
            if (Interlocked.Increment(ref served) == 1)
            {
                firstServed.TrySetResult();
                await secondServed.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }
            else
                secondServed.TrySetResult();
            try
            {
                await route.FulfillAsync(new() { Response = answer });
            }
            catch (PlaywrightException)
            {
                // The second submission replaced the first navigation: its answer has nowhere to go.
            }
        });

        await Page.FillAsync("#change-value", "300");
        // Clicks as a hand makes them: not waiting, as Playwright's click would, for the navigation to finish.
        var button = await Page.Locator("#adjust").BoundingBoxAsync() ?? throw new InvalidOperationException("no adjust button");
        var (x, y) = (button.X + button.Width / 2, button.Y + button.Height / 2);
        await Page.Mouse.ClickAsync(x, y);
        await firstServed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Page.Mouse.ClickAsync(x, y);
        await secondServed.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, served);
        Assert.Equal(1, await App.QueryAsync(db => db.PointEntries.CountAsync(p => p.MemberId == 12)));
        Assert.Equal(300, await App.QueryAsync(db => db.Members.Where(m => m.Id == 12).Select(m => m.Balance).SingleAsync()));
        await Assertions.Expect(Page.Locator("#balance")).ToHaveTextAsync("300");
        await Assertions.Expect(Page.Locator("#ledger tr", new() { HasText = "+300" })).ToHaveCountAsync(1);
    }
}
