using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Operators;

[Collection(ChromiumCollection.Name)]
public sealed class BrowserSmokeTests(Chromium chromium, ITestOutputHelper output) : BrowserTest(chromium, output)
{
    [BrowserFact]
    public async Task ChromiumReachesTheAppOverARealSocket()
    {
        var response = await Page.GotoAsync("/health");

        Assert.Equal((200, "Healthy"), (response!.Status, await Page.Locator("body").InnerTextAsync()));
        Assert.True(new FileInfo(await ScreenshotAsync()).Length > 0);
    }
}
