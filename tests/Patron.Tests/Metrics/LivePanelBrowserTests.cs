using System.Globalization;
using Microsoft.Playwright;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Metrics;

/// <summary>The dashboard's live panel in headless Chromium: its script reads the numbers and fills them in.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class LivePanelBrowserTests(Chromium chromium, ITestOutputHelper output) : BrowserTest(chromium, output)
{
    [BrowserFact]
    public async Task TheLivePanelFillsInThisInstancesNumbers()
    {
        using var partner = new HttpClient { BaseAddress = BaseUrl };
        partner.DefaultRequestHeaders.Authorization = new("Bearer", TestCatalog.ApiKey);
        Assert.Equal(0, (await partner.AddPointsAsync(1, "P", 25)).Errcode);

        await SignInAsync();
        await Page.WaitForFunctionAsync("document.querySelector('[data-live=\"added\"]').textContent !== '…'");

        var added = await Page.InnerTextAsync("[data-live=\"added\"]");
        var uses = await Page.InnerTextAsync("[data-live=\"uses\"]");
        await ScreenshotAsync();

        Assert.True(long.Parse(added, NumberStyles.AllowThousands, CultureInfo.GetCultureInfo("en-US")) >= 25, $"points earned: {added}");
        Assert.Matches("^[0-9,]+$", uses);
        Assert.Equal("", await Page.InnerTextAsync("[data-live=\"status\"]"));
    }
}
