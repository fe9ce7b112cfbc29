using Microsoft.Playwright;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// One headless Chromium for the whole run, shared by the browser tests' collection; each test
/// gets a fresh context from it. It is Debian's Chromium: Playwright never downloads a browser.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";
    public const string Missing = $"Chromium not installed at {ExecutablePath}: apt-get install chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public static bool IsInstalled => File.Exists(ExecutablePath);

    public async Task InitializeAsync()
    {
        if (!IsInstalled)
            throw new InvalidOperationException(Missing);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // No sandbox: CI runs as root. No background or component traffic: the machine has no internet.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        });
    }

    /// <summary>A context of its own (cookies, storage) whose relative URLs go to <paramref name="baseUrl"/>.</summary>
    public Task<IBrowserContext> NewContextAsync(Uri baseUrl) =>
        (_browser ?? throw new InvalidOperationException("Chromium was not started")).NewContextAsync(new() { BaseURL = baseUrl.ToString() });

    public async Task DisposeAsync()
    {
        if (_browser is not null)
            await _browser.CloseAsync();
        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<Chromium>
{
    public const string Name = "Chromium";
}

/// <summary>
/// A test that drives Chromium. Where Chromium is missing it is skipped with the install hint,
/// except on CI (CI=true): there a missing browser must fail, not pass quietly as skipped.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!Chromium.IsInstalled && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Skip = Chromium.Missing;
    }
}
