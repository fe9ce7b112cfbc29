using Microsoft.Playwright;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Operators;

/// <summary>A webhook made in the console in headless Chromium: its secret on the answer, and gone on the next visit.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class WebhookBrowserTests(Chromium chromium, ITestOutputHelper output) : BrowserTest(chromium, output)
{
    [BrowserFact]
    public async Task AnAdminCreatesAWebhookSeesItsSecretOnceAndThenOnlyItsRow()
    {
        await SignInAsync();

        await Page.ClickAsync("nav >> text=Webhook 推送");
        await Page.FillAsync("#create-webhook input[name=name]", "crm");
        await Page.FillAsync("#create-webhook input[name=url]", "https://crm.example/hook");
        await Page.CheckAsync("#create-webhook input[value='points.changed']");
        await Page.CheckAsync("#create-webhook input[value='card.used']");
        await Page.ClickAsync("#create");

        var secret = await Page.Locator("#new-secret-value").InnerTextAsync();
        Assert.StartsWith("whsec_", secret);
        await Assertions.Expect(Page.Locator("tr[data-webhook=crm]")).ToContainTextAsync("points.changed,card.used");
        await ScreenshotAsync();

        await Page.GotoAsync("/console/webhooks");
        await Assertions.Expect(Page.Locator("tr[data-webhook=crm]")).ToBeVisibleAsync();
        Assert.Equal(0, await Page.Locator("#new-secret").CountAsync());
        Assert.DoesNotContain(secret, await Page.ContentAsync());
    }
}
