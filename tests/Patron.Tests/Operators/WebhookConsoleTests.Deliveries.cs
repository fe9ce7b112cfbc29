using System.Net;
using Microsoft.EntityFrameworkCore;
using Patron.Events;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Operators;

/// <summary>Deliveries, attempts, resend, bad input and the viewer role.</summary>
public abstract partial class WebhookConsoleTests
{
    /// <summary>
    /// A delivery of a real points.changed event (a Point/Add through the open API), in the given
    /// state after two attempts: a 500 with an answer and a timeout. The dispatcher is off, so the
    /// test writes what it would have.
    /// </summary>
    private async Task<long> AddDeliveryAsync(int webhookId, string state, string bill = "B-hook-1")
    {
        Assert.Equal(0, (await Partner.AddPointsAsync(1, "P", 7, bill)).Errcode);
        return await App.QueryAsync(async db =>
        {
            var ev = await db.OutboxEvents.Where(e => e.Type == EventTypes.PointsChanged && e.MemberId == 1).OrderByDescending(e => e.Id).FirstAsync();
            var at = ev.At;
            // On SQLite the write made one already; this one, in the state the test needs, replaces it.
            await db.WebhookDeliveries.Where(d => d.EventId == ev.Id && d.WebhookId == webhookId).ExecuteDeleteAsync();
            var delivery = new WebhookDelivery
            {
                EventId = ev.Id, WebhookId = webhookId, MemberId = 1, State = state, Attempts = 8, DueAt = at, CreatedAt = at,
                LeasedUntil = at.AddMinutes(1), LastStatus = 500, LastError = "HTTP 500", DoneAt = state == WebhookDelivery.Pending ? null : at,
            };
            db.WebhookDeliveries.Add(delivery);
            await db.SaveChangesAsync();
            db.WebhookAttempts.AddRange(
                new WebhookAttempt { DeliveryId = delivery.Id, At = at, Status = 500, DurationMs = 12, Answer = "boom-answer from the receiver" },
                new WebhookAttempt { DeliveryId = delivery.Id, At = at.AddSeconds(5), DurationMs = 15000, Error = "timed out after 15 s" });
            await db.SaveChangesAsync();
            return delivery.Id;
        });
    }

    private async Task<int> CreatedAsync(ConsoleSession admin, string name = "crm")
    {
        await CreateAsync(admin, name, "https://crm.example/hook", EventTypes.PointsChanged);
        return (await WebhookAsync(name)).Id;
    }

    [Fact]
    public async Task DeliveriesShowWithTheirAttemptsAnswersAndBodyAndFilterByState()
    {
        var admin = await SignInAsync();
        var hook = await CreatedAsync(admin);
        var failed = await AddDeliveryAsync(hook, WebhookDelivery.Failed, "B-failed");
        var delivered = await AddDeliveryAsync(hook, WebhookDelivery.Delivered, "B-done");
        var eventId = await App.QueryAsync(db => db.WebhookDeliveries.Where(d => d.Id == failed).Select(d => d.EventId).SingleAsync());

        var all = await GetAsync(admin, $"/console/webhooks/{hook}/deliveries");
        var onlyFailed = await GetAsync(admin, $"/console/webhooks/{hook}/deliveries?state=F");
        var detail = await GetAsync(admin, $"/console/webhooks/deliveries/{failed}");

        Assert.True(all.IndexOf($"data-delivery=\"{delivered}\"", StringComparison.Ordinal) < all.IndexOf($"data-delivery=\"{failed}\"", StringComparison.Ordinal),
            "newest first");
        Assert.Contains($"evt_{eventId}", all);
        Assert.Contains(EventTypes.PointsChanged, all);
        Assert.Contains($"data-delivery=\"{failed}\"", onlyFailed);
        Assert.DoesNotContain($"data-delivery=\"{delivered}\"", onlyFailed);
        Assert.Contains("boom-answer from the receiver", detail);
        Assert.Contains("timed out after 15 s", detail);
        Assert.Contains("\"busiBillNum\": \"B-failed\"", detail);
        Assert.Contains("\"type\": \"points.changed\"", detail);
        Assert.Contains("\"channel\": \"hkl-test\"", detail);
        Assert.Contains("class=\"num failed\">1<", await GetAsync(admin, Page));
    }

    [Fact]
    public async Task ResendMakesAFailedDeliveryPendingDueNowWithNoAttemptsOrLeaseAndIsAudited()
    {
        var admin = await SignInAsync();
        var hook = await CreatedAsync(admin);
        var id = await AddDeliveryAsync(hook, WebhookDelivery.Failed);

        var (status, html) = await PostAsync(admin, $"/console/webhooks/deliveries/{id}?handler=Resend");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("id=\"resent\"", html);
        var delivery = await App.QueryAsync(db => db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == id));
        var line = (await AuditAsync()).Single(a => a.Action == "webhook.resend");
        Assert.Equal((WebhookDelivery.Pending, 0, (DateTimeOffset?)null, (DateTimeOffset?)null), (delivery.State, delivery.Attempts, delivery.LeasedUntil, delivery.DoneAt));
        Assert.Equal(line.At, delivery.DueAt);
        Assert.Equal(("webhook-delivery", id.ToString()), (line.Entity, line.EntityId));
        Assert.Contains("\"state\":\"F\"", line.Before);
        // The attempts stay, for the record.
        Assert.Equal(2, await App.QueryAsync(db => db.WebhookAttempts.CountAsync(a => a.DeliveryId == id)));
    }

    [Theory]
    [InlineData("crm", "ftp://crm.example/hook", "points.changed", "url")]
    [InlineData("crm", "not a url", "points.changed", "url")]
    [InlineData("crm", "/relative/hook", "points.changed", "url")]
    [InlineData("crm", "https://crm.example/hook", "points.exploded", "unknown event type points.exploded")]
    [InlineData("crm", "https://crm.example/hook", "", "choose at least one event type")]
    [InlineData("c r m", "https://crm.example/hook", "points.changed", "a name is")]
    [InlineData("", "https://crm.example/hook", "points.changed", "a name is")]
    [InlineData("existing", "https://crm.example/hook", "points.changed", "There is already a webhook existing")]
    public async Task BadInputIsShownOnThePageAndChangesNothing(string name, string url, string events, string error)
    {
        var admin = await SignInAsync();
        await CreateAsync(admin, "existing", "https://crm.example/hook", "*");
        var before = (await EverythingStoredAsync(), await App.QueryAsync(db => db.Webhooks.CountAsync()));

        var (status, html) = await CreateAsync(admin, name, url, events);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("id=\"webhook-error\"", html);
        Assert.Contains(error, html);
        Assert.DoesNotContain("new-secret", html);
        Assert.Equal(before, (await EverythingStoredAsync(), await App.QueryAsync(db => db.Webhooks.CountAsync())));
    }

    [Fact]
    public async Task UnknownIdsAndStatesAreAnErrorOrANotFoundNeverA500()
    {
        var admin = await SignInAsync();
        var hook = await CreatedAsync(admin);

        using var noWebhook = await admin.Http.GetAsync("/console/webhooks/999999/deliveries");
        using var noDelivery = await admin.Http.GetAsync("/console/webhooks/deliveries/999999");
        var badState = await GetAsync(admin, $"/console/webhooks/{hook}/deliveries?state=X&before=abc");
        var (resend, _) = await PostAsync(admin, "/console/webhooks/deliveries/999999?handler=Resend");
        var (rotate, rotateHtml) = await PostAsync(admin, $"{Page}?handler=Rotate&id=999999");
        var (delete, deleteHtml) = await PostAsync(admin, $"{Page}?handler=Delete&id=abc");

        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound), (noWebhook.StatusCode, noDelivery.StatusCode, resend));
        Assert.Contains("id=\"filter-error\"", badState);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (rotate, delete));
        Assert.Contains("There is no webhook 999999", rotateHtml);
        Assert.Contains("There is no webhook", deleteHtml);
        Assert.Single(await App.QueryAsync(db => db.Webhooks.ToListAsync()));
    }

    [Fact]
    public async Task TheViewerSeesWebhooksButCannotChangeThem()
    {
        var admin = await SignInAsync();
        var hook = await CreatedAsync(admin);
        var delivery = await AddDeliveryAsync(hook, WebhookDelivery.Failed);
        var viewer = await SignInAsync(TestCatalog.ViewerUser, TestCatalog.ViewerPassword);
        var before = await EverythingStoredAsync();
        var deliveryBefore = await App.QueryAsync(db => db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == delivery));

        var list = await GetAsync(viewer, Page);
        var detail = await GetAsync(viewer, $"/console/webhooks/deliveries/{delivery}");
        var answers = new[]
        {
            await PostAsync(viewer, Page, ("name", "mine"), ("url", "https://x.example/"), ("events", "*")),
            await PostAsync(viewer, $"{Page}?handler=Rotate&id={hook}"),
            await PostAsync(viewer, $"{Page}?handler=Disable&id={hook}"),
            await PostAsync(viewer, $"{Page}?handler=Delete&id={hook}"),
            await PostAsync(viewer, $"/console/webhooks/deliveries/{delivery}?handler=Resend"),
        };

        Assert.Contains("data-webhook=\"crm\"", list);
        Assert.DoesNotContain("id=\"create-webhook\"", list);
        Assert.DoesNotContain("id=\"resend\"", detail);
        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.Forbidden or HttpStatusCode.Redirect, $"{a.Status}"));
        Assert.All(answers, a => Assert.DoesNotContain("new-secret", a.Html));
        Assert.Equal(before, await EverythingStoredAsync());
        var deliveryAfter = await App.QueryAsync(db => db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == delivery));
        Assert.Equal((deliveryBefore.State, deliveryBefore.Attempts), (deliveryAfter.State, deliveryAfter.Attempts));
        Assert.True((await WebhookAsync("crm")).Enabled);
    }
}
