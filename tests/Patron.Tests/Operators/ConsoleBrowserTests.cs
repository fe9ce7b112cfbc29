using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Operators;

/// <summary>The console as an operator uses it, in headless Chromium against a Kestrel-served Patron.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class ConsoleBrowserTests(Chromium chromium, ITestOutputHelper output) : BrowserTest(chromium, output)
{
    private HttpClient Partner(string apiKey = TestCatalog.ApiKey)
    {
        var client = new HttpClient { BaseAddress = BaseUrl };
        client.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        return client;
    }

    [BrowserFact]
    public async Task AnOperatorFindsAMemberAdjustsItsPointsAndSeesTheLedgerRow()
    {
        await SignInAsync();
        await Page.ClickAsync("nav >> text=会员");
        await Page.FillAsync("#member-search", "13800000003");
        await Page.ClickAsync("#search");
        await Page.ClickAsync("#members >> text=M0003");

        await Page.SelectOptionAsync("#busi-type", "C");
        await Page.FillAsync("#change-value", "1200");
        await Page.FillAsync("#bill", "counter-7");
        await Page.ClickAsync("#adjust");

        await Assertions.Expect(Page.Locator("#balance")).ToHaveTextAsync("1,200");
        await Assertions.Expect(Page.Locator("#level")).ToHaveTextAsync("金卡会员");
        var row = Page.Locator("#ledger tr", new() { HasText = "counter-7" });
        await Assertions.Expect(row).ToContainTextAsync("+1,200");
        await Assertions.Expect(row).ToContainTextAsync("operator:admin");
        await ScreenshotAsync();
    }

    [BrowserFact]
    public async Task ACardMadeInTheConsoleSoldThroughTheOpenApiShowsItsUsageOnTheMemberPage()
    {
        await SignInAsync();
        await Page.GotoAsync("/console/cards");
        await Page.FillAsync("#card-id", "L-BROWSER-01");
        await Page.FillAsync("#card-name", "午市套餐卡");
        await Page.FillAsync("#card-price", "68.00");
        await Page.FillAsync("#card-valid-days", "30");
        await Page.FillAsync("#product-0-id", "P-LUNCH");
        await Page.FillAsync("#product-0-name", "午市套餐");
        await Page.FillAsync("#product-0-total", "10");
        await Page.FillAsync("#product-0-cycle-days", "7");
        await Page.FillAsync("#product-0-cycle-num", "3");
        await Page.ClickAsync("#save-card");
        await Assertions.Expect(Page.Locator("#cards tr[data-card='L-BROWSER-01']")).ToContainTextAsync("午市套餐卡");

        var openApi = new OpenApiClient(Partner(), TimeProvider.System);
        var now = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8));
        var sale = await openApi.SellAsync("B-1", saleTime: now.ToString("yyyy-MM-dd HH:mm:ss"), memberId: "M0009", card: "L-BROWSER-01", payAmt: "68.00");
        var code = sale.Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await openApi.UseAsync(code, "BU-1", useTime: null, product: "P-LUNCH", posid: "POS-88")).Code);

        await Page.GotoAsync("/console/members/9");
        var usage = Page.Locator($".member-card[data-code='{code}'] tr.usage[data-product='P-LUNCH']");
        await Assertions.Expect(usage.Locator(".used")).ToHaveTextAsync("1 / 10");
        await Assertions.Expect(usage.Locator(".cycle")).ToContainTextAsync("1 / 3");
        await Assertions.Expect(usage).ToContainTextAsync("POS-88");
        await ScreenshotAsync();

        await Partner().AddPointsAsync(9, "P", 1500);
        await Partner().AddPointsAsync(9, "E", -400);
        await Page.GotoAsync("/console");
        await Assertions.Expect(Page.Locator("#chart rect")).ToHaveCountAsync(60);
        await ScreenshotAsync("Dashboard");
    }

    [BrowserFact]
    public async Task RotatingAChannelsKeyShowsTheNewKeyOnceAndRetiresTheOld()
    {
        await SignInAsync();
        await Page.GotoAsync("/console/channels");
        await Page.ClickAsync("#channels tr[data-channel='other'] button.rotate");

        var newKey = (await Page.Locator("#new-api-key").InnerTextAsync()).Trim();
        await ScreenshotAsync();
        using var withOld = await Partner(TestCatalog.OtherApiKey).PostAsync(PointsWireClient.PointAdd, null);
        var withNew = await Partner(newKey).AddPointsAsync(1, "P", 5);
        await Page.GotoAsync("/console/channels");

        Assert.Equal(HttpStatusCode.Unauthorized, withOld.StatusCode);
        Assert.Equal(0, withNew.Errcode);
        Assert.Equal(0, await Page.Locator("#new-api-key").CountAsync());
        Assert.Equal(1, await App.QueryAsync(db => db.AuditLog.CountAsync(a => a.Action == "channel.rotate")));
    }

    [BrowserFact]
    public async Task AViewerSeesNoFormsToChangeAnything()
    {
        await SignInAsync(TestCatalog.ViewerUser, TestCatalog.ViewerPassword);

        await Page.GotoAsync("/console/members/1");

        Assert.Equal(0, await Page.Locator("#adjust").CountAsync());
        await Assertions.Expect(Page.Locator("#balance")).ToBeVisibleAsync();
    }
}
