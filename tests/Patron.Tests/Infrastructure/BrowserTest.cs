using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// Base of the browser tests: each test gets its own Patron on SQLite, served by Kestrel on a
/// free loopback port, and a fresh Chromium page pointed at it. Derived classes need
/// <c>[Collection(ChromiumCollection.Name)]</c> themselves (xunit does not inherit it) and
/// <c>[BrowserFact]</c> on their tests.
/// </summary>
public abstract class BrowserTest(Chromium chromium, ITestOutputHelper output) : IAsyncLifetime
{
    private IBrowserContext? _context;

    protected PatronApp App { get; private set; } = null!;
    protected Uri BaseUrl { get; private set; } = null!;

    /// <summary>A page whose relative URLs (<c>Page.GotoAsync("/health")</c>) go to <see cref="App"/>.</summary>
    protected IPage Page { get; private set; } = null!;

    protected virtual JsonObject Catalog() => TestCatalog.Build();

    public async Task InitializeAsync()
    {
        App = new PatronApp(Backend.Sqlite.Storage, await Backend.Sqlite.NewMigratedDatabaseAsync(), TestCatalog.Write(Catalog()), TimeProvider.System);
        BaseUrl = App.StartKestrel();
        _context = await chromium.NewContextAsync(BaseUrl);
        Page = await _context.NewPageAsync();
    }

    private static readonly System.Text.RegularExpressions.Regex Dashboard = new("/console$");

    /// <summary>
    /// Signs in on the console's login page and waits for the dashboard. A sign-in that does not
    /// get there fails with the page it stayed on, so that a failure in a full run says why.
    /// </summary>
    protected async Task SignInAsync(string user = TestCatalog.AdminUser, string password = TestCatalog.AdminPassword)
    {
        await Page.GotoAsync("/console/login");
        await Page.FillAsync("#user", user);
        await Page.FillAsync("#password", password);
        await Page.ClickAsync("#sign-in");
        try
        {
            // The address, polled, not a navigation's events: under a full suite's load those have not
            // come within 30 s, with the dashboard already showing.
            await Assertions.Expect(Page).ToHaveURLAsync(Dashboard, new() { Timeout = 30_000 });
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            var shown = await Page.InnerTextAsync("body", new() { Timeout = 5_000 });
            throw new TimeoutException($"signed in as {user}, the browser stayed at {Page.Url}, showing: {shown}", e);
        }
    }

    /// <summary>
    /// Saves the whole page as TestResults/screenshots/{Class}.{test}.png under the test output
    /// folder, and prints the path into the test's output.
    /// </summary>
    protected async Task<string> ScreenshotAsync([CallerMemberName] string test = "")
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots", $"{GetType().Name}.{test}.png");
        await Page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
        return path;
    }

    public async Task DisposeAsync()
    {
        if (_context is not null)
            await _context.CloseAsync();
        if (App is not null)
            await App.DisposeAsync();
    }
}
