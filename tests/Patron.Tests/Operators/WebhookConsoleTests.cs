using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Console;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Operators;

/// <summary>
/// Webhook subscriptions in the console: a secret shown once and nowhere after (pages, audit log,
/// events), rotation keeping the old secret for a day, deliveries with their attempts and body,
/// resend, errors on the page, and viewers kept from every change.
/// </summary>
public abstract partial class WebhookConsoleTests(Backend backend) : PatronTest(backend)
{
    private const string Page = "/console/webhooks";

    // The dispatcher stays off: these tests set deliveries' states themselves and read them back.
    protected override void ConfigureHost(IWebHostBuilder builder) => builder.UseSetting("Webhooks:Enabled", "false");

    [GeneratedRegex("id=\"new-secret-value\">([^<]+)<")]
    private static partial Regex SecretShown();

    private async Task<ConsoleSession> SignInAsync(string user = TestCatalog.AdminUser, string password = TestCatalog.AdminPassword)
    {
        var session = new ConsoleSession(App);
        await session.SignInAsync(user, password);
        return session;
    }

    /// <summary>Posts a form (fields may repeat, as checkboxes do) with the session's anti-forgery token; the answer decoded.</summary>
    private static async Task<(HttpStatusCode Status, string Html)> PostAsync(ConsoleSession session, string url,
        params (string Name, string Value)[] fields)
    {
        var token = await session.FormTokenAsync(Page);
        var form = fields.Select(f => KeyValuePair.Create(f.Name, f.Value)).Append(KeyValuePair.Create("__RequestVerificationToken", token));
        using var response = await session.Http.PostAsync(url, new FormUrlEncodedContent(form));
        return (response.StatusCode, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
    }

    private static async Task<string> GetAsync(ConsoleSession session, string url) => WebUtility.HtmlDecode(await session.Http.GetStringAsync(url));

    private static Task<(HttpStatusCode Status, string Html)> CreateAsync(ConsoleSession session, string name, string url, params string[] events) =>
        PostAsync(session, Page, [("name", name), ("url", url), .. events.Select(e => ("events", e))]);

    private static string Secret(string html) => SecretShown().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException("no secret on the page");

    private Task<Webhook> WebhookAsync(string name) => App.QueryAsync(db => db.Webhooks.AsNoTracking().SingleAsync(w => w.Name == name));

    private Task<List<AuditEntry>> AuditAsync() => App.QueryAsync(db => db.AuditLog.AsNoTracking().OrderBy(a => a.Id).ToListAsync());

    private Task<string> EverythingStoredAsync() => App.QueryAsync(async db => string.Join('\n',
        (await db.AuditLog.AsNoTracking().ToListAsync()).Select(a => $"{a.Before} {a.After}")
        .Concat(await db.OutboxEvents.AsNoTracking().Select(e => e.Data ?? "").ToListAsync())
        .Concat(await db.Webhooks.AsNoTracking().Select(w => w.Secret + " " + w.PreviousSecret).ToListAsync())));

    private WebhookSecrets Secrets => App.Services.GetRequiredService<WebhookSecrets>();

    [Fact]
    public async Task CreatingShowsTheSecretOnceAndNoPageOrAuditLineShowsItAgain()
    {
        var admin = await SignInAsync();

        var (status, html) = await CreateAsync(admin, "crm", "http://127.0.0.1:9/hook", EventTypes.PointsChanged, EventTypes.CardUsed);

        Assert.Equal(HttpStatusCode.OK, status);
        var secret = Secret(html);
        Assert.NotNull(WebhookSecrets.Key(secret));
        var stored = await WebhookAsync("crm");
        Assert.Equal(("http://127.0.0.1:9/hook", "points.changed card.used", true, false), (stored.Url, stored.Events, stored.Enabled, stored.FromCatalog));
        Assert.NotEqual(secret, stored.Secret);
        Assert.Equal(secret, Secrets.Reveal(stored.Secret));
        Assert.Contains(await AuditAsync(), a => a.Action == "webhook.create" && a.EntityId == "crm" && a.Actor == "operator:admin");

        var list = await GetAsync(admin, Page);
        var deliveries = await GetAsync(admin, $"/console/webhooks/{stored.Id}/deliveries");
        var audit = await GetAsync(admin, "/console/audit");
        Assert.Contains("data-webhook=\"crm\"", list);
        Assert.Contains("points.changed,card.used", list);
        Assert.Contains("webhook.create", audit);
        Assert.All(new[] { list, deliveries, audit, await EverythingStoredAsync() }, text =>
        {
            Assert.DoesNotContain(secret, text);
            Assert.DoesNotContain(secret[WebhookSecrets.Prefix.Length..], text);
        });
        Assert.DoesNotContain("new-secret", list);
    }

    [Fact]
    public async Task RotatingShowsTheNewSecretOnceAndKeepsThePreviousForADay()
    {
        var admin = await SignInAsync();
        var first = Secret((await CreateAsync(admin, "crm", "https://crm.example/hook", "*")).Html);
        var id = (await WebhookAsync("crm")).Id;

        var (status, html) = await PostAsync(admin, $"{Page}?handler=Rotate&id={id}");

        Assert.Equal(HttpStatusCode.OK, status);
        var second = Secret(html);
        Assert.NotEqual(first, second);
        var stored = await WebhookAsync("crm");
        Assert.Equal((second, first), (Secrets.Reveal(stored.Secret), Secrets.Reveal(stored.PreviousSecret!)));
        var rotation = (await AuditAsync()).Single(a => a.Action == "webhook.rotate");
        Assert.Equal(TimeSpan.FromHours(24), stored.PreviousUntil - rotation.At);
        var list = await GetAsync(admin, Page);
        Assert.Contains("the previous secret signs too until", await GetAsync(admin, Page + "?culture=en"));
        Assert.All(new[] { list, await GetAsync(admin, "/console/audit"), await EverythingStoredAsync() }, text =>
        {
            Assert.DoesNotContain(first, text);
            Assert.DoesNotContain(second, text);
        });
    }

    /// <summary>
    /// A handler's id reads as the routes' <c>{id:int}</c> does: a no-break space after it names no
    /// webhook (MVC's own binder would trim it and rotate webhook 1), nor does a number past an
    /// <c>int</c>'s range that wraps to the id; ASCII spaces around it still do.
    /// </summary>
    [Fact]
    public async Task AnIdWithAUnicodeSpaceNamesNoWebhook()
    {
        var admin = await SignInAsync();
        await CreateAsync(admin, "crm", "https://crm.example/hook", "*");
        var hook = await WebhookAsync("crm");

        var (status, html) = await PostAsync(admin, $"{Page}?handler=Rotate&id={hook.Id}%C2%A0");
        var (disabledStatus, _) = await PostAsync(admin, $"{Page}?handler=Disable&id=%E2%80%83{hook.Id}");
        var (wrappedStatus, _) = await PostAsync(admin, $"{Page}?handler=Disable&id={(1L << 32) + hook.Id}");
        var unchanged = await WebhookAsync("crm");
        var (spacedStatus, _) = await PostAsync(admin, $"{Page}?handler=Disable&id=%20{hook.Id}%20");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (status, disabledStatus, wrappedStatus, spacedStatus));
        Assert.Contains("class=\"error\"", html);
        Assert.Equal((hook.Secret, (string?)null, true), (unchanged.Secret, unchanged.PreviousSecret, unchanged.Enabled));
        Assert.False((await WebhookAsync("crm")).Enabled);
        Assert.Equal(["webhook.create", "webhook.disable"], (await AuditAsync()).Where(a => a.Entity == "webhook").Select(a => a.Action));
    }

    [Fact]
    public async Task DisablingEnablingAndDeletingAreAuditedAndDeletionTakesTheDeliveries()
    {
        var admin = await SignInAsync();
        await CreateAsync(admin, "crm", "https://crm.example/hook", EventTypes.PointsChanged);
        var hook = await WebhookAsync("crm");
        var delivery = await AddDeliveryAsync(hook.Id, WebhookDelivery.Failed);

        await PostAsync(admin, $"{Page}?handler=Disable&id={hook.Id}");
        var disabled = await WebhookAsync("crm");
        await PostAsync(admin, $"{Page}?handler=Enable&id={hook.Id}");
        var enabled = await WebhookAsync("crm");
        var (status, _) = await PostAsync(admin, $"{Page}?handler=Delete&id={hook.Id}");

        Assert.Equal((false, "disabled by an operator"), (disabled.Enabled, disabled.DisabledReason));
        Assert.Equal((true, (string?)null), (enabled.Enabled, enabled.DisabledReason));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((0, 0, 0), await App.QueryAsync(async db => (await db.Webhooks.CountAsync(),
            await db.WebhookDeliveries.CountAsync(), await db.WebhookAttempts.CountAsync(a => a.DeliveryId == delivery))));
        Assert.Equal(["webhook.create", "webhook.disable", "webhook.enable", "webhook.delete"],
            (await AuditAsync()).Where(a => a.Entity == "webhook").Select(a => a.Action));
    }

    [Fact]
    public async Task ACatalogWebhookCanBeDisabledButNotDeleted()
    {
        var admin = await SignInAsync();
        var id = await App.QueryAsync(async db =>
        {
            var hook = new Webhook { Name = "from-file", Url = "https://x.example/", Events = "*", Secret = Secrets.Protect(WebhookSecrets.New()), FromCatalog = true };
            db.Webhooks.Add(hook);
            await db.SaveChangesAsync();
            return hook.Id;
        });

        var (status, html) = await PostAsync(admin, $"{Page}?handler=Delete&id={id}");
        await PostAsync(admin, $"{Page}?handler=Disable&id={id}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("comes from the catalog", html);
        Assert.False((await WebhookAsync("from-file")).Enabled);
        Assert.DoesNotContain(await AuditAsync(), a => a.Action == "webhook.delete");
    }
}

public sealed class WebhookConsoleTestsOnSqlite() : WebhookConsoleTests(Backend.Sqlite);

public sealed class WebhookConsoleTestsOnPostgres() : WebhookConsoleTests(Backend.Postgres);
