using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Operators;

/// <summary>Webhooks on /api/v1, as the console has them: the secret in the creating answer only, problems for bad input, viewers read.</summary>
public abstract class WebhookApiTests(Backend backend) : PatronTest(backend)
{
    protected override void ConfigureHost(IWebHostBuilder builder) => builder.UseSetting("Webhooks:Enabled", "false");

    private static async Task<(HttpStatusCode Status, JsonNode? Body, string Text)> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null, text);
    }

    private Task<(HttpStatusCode Status, JsonNode? Body, string Text)> CreateAsync(string name = "crm", string url = "https://crm.example/hook", params string[] events) =>
        SendAsync(OperatorClient(), HttpMethod.Post, "/api/v1/webhooks", new { name, url, events = events.Length == 0 ? [EventTypes.PointsChanged] : events });

    [Fact]
    public async Task CreatingAnswersTheSecretOnceAndTheListNeverHoldsIt()
    {
        var (status, body, _) = await CreateAsync(events: [EventTypes.CardUsed, EventTypes.PointsChanged]);
        var secret = body!["secret"]!.GetValue<string>();
        var id = body["id"]!.GetValue<int>();

        var (rotated, rotation, _) = await SendAsync(OperatorClient(), HttpMethod.Post, $"/api/v1/webhooks/{id}/rotate");
        var list = await OperatorClient(TestCatalog.ViewerToken).GetStringAsync("/api/v1/webhooks");
        var audit = await OperatorClient().GetStringAsync("/api/v1/audit");
        var openApi = await App.CreateClient().GetStringAsync("/openapi/v1.json");

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK), (status, rotated));
        Assert.NotNull(WebhookSecrets.Key(secret));
        var second = rotation!["secret"]!.GetValue<string>();
        Assert.NotEqual(secret, second);
        var hook = JsonNode.Parse(list)!.AsArray().Single()!;
        Assert.Equal(["points.changed", "card.used"], hook["events"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.NotNull(hook["previousUntil"]);
        Assert.Contains("/api/v1/webhooks/deliveries/{id}/resend", openApi);
        Assert.All(new[] { list, audit }, text => Assert.True(!text.Contains(secret[6..]) && !text.Contains(second[6..]), "a secret shown again"));
    }

    [Fact]
    public async Task BadRequestsAreProblemsAndChangeNothing()
    {
        await CreateAsync("existing");
        var catalogHook = await App.QueryAsync(async db =>
        {
            var hook = new Webhook { Name = "from-file", Url = "https://x.example/", Events = "*", Secret = "whsec_x", FromCatalog = true };
            db.Webhooks.Add(hook);
            await db.SaveChangesAsync();
            return hook.Id;
        });
        var audit = await App.QueryAsync(db => db.AuditLog.CountAsync());

        var badUrl = await CreateAsync(url: "ftp://crm.example/");
        var badType = await CreateAsync(events: "points.exploded");
        var taken = await CreateAsync("existing");
        var noRotate = await SendAsync(OperatorClient(), HttpMethod.Post, "/api/v1/webhooks/999999/rotate");
        var catalogDelete = await SendAsync(OperatorClient(), HttpMethod.Delete, $"/api/v1/webhooks/{catalogHook}");
        var badState = await SendAsync(OperatorClient(), HttpMethod.Get, $"/api/v1/webhooks/{catalogHook}/deliveries?state=X");
        var badLimit = await SendAsync(OperatorClient(), HttpMethod.Get, $"/api/v1/webhooks/{catalogHook}/deliveries?limit=0");
        var noResend = await SendAsync(OperatorClient(), HttpMethod.Post, "/api/v1/webhooks/deliveries/999999/resend");

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.Conflict), (badUrl.Status, badType.Status, taken.Status));
        Assert.Contains("url", badUrl.Text);
        Assert.Contains("points.exploded", badType.Text);
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.Conflict, HttpStatusCode.NotFound), (noRotate.Status, catalogDelete.Status, noResend.Status));
        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (badState.Status, badLimit.Status));
        Assert.Equal(2, await App.QueryAsync(db => db.Webhooks.CountAsync()));
        Assert.Equal(audit, await App.QueryAsync(db => db.AuditLog.CountAsync()));
    }

    [Fact]
    public async Task DeliveriesAttemptsAndResendThroughTheApiAndViewersOnlyRead()
    {
        var id = (await CreateAsync()).Body!["id"]!.GetValue<int>();
        Assert.Equal(0, (await Partner.AddPointsAsync(2, "P", 5, "B-api")).Errcode);
        var delivery = await App.QueryAsync(async db =>
        {
            var ev = await db.OutboxEvents.Where(e => e.Type == EventTypes.PointsChanged && e.MemberId == 2).OrderByDescending(e => e.Id).FirstAsync();
            // On SQLite the write made one already; this one, in the state the test needs, replaces it.
            await db.WebhookDeliveries.Where(x => x.EventId == ev.Id && x.WebhookId == id).ExecuteDeleteAsync();
            var d = new WebhookDelivery { EventId = ev.Id, WebhookId = id, MemberId = 2, State = WebhookDelivery.Failed, Attempts = 8, DueAt = ev.At, LastStatus = 503 };
            db.WebhookDeliveries.Add(d);
            await db.SaveChangesAsync();
            db.WebhookAttempts.Add(new WebhookAttempt { DeliveryId = d.Id, At = ev.At, Status = 503, DurationMs = 40, Answer = "busy, try later" });
            await db.SaveChangesAsync();
            return d.Id;
        });
        var viewer = OperatorClient(TestCatalog.ViewerToken);

        var page = JsonNode.Parse(await viewer.GetStringAsync($"/api/v1/webhooks/{id}/deliveries?state=F"))!;
        var detail = JsonNode.Parse(await viewer.GetStringAsync($"/api/v1/webhooks/deliveries/{delivery}"))!;
        var refused = await SendAsync(viewer, HttpMethod.Post, $"/api/v1/webhooks/deliveries/{delivery}/resend");
        var disable = await SendAsync(viewer, HttpMethod.Post, $"/api/v1/webhooks/{id}/disable");
        var resent = await SendAsync(OperatorClient(), HttpMethod.Post, $"/api/v1/webhooks/deliveries/{delivery}/resend");

        Assert.Equal(delivery, page["items"]!.AsArray().Single()!["id"]!.GetValue<long>());
        Assert.Equal("busy, try later", detail["attempts"]![0]!["answer"]!.GetValue<string>());
        Assert.Contains("\"busiBillNum\": \"B-api\"", detail["body"]!.GetValue<string>());
        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.NoContent), (refused.Status, disable.Status, resent.Status));
        var after = await App.QueryAsync(db => db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == delivery));
        Assert.Equal((WebhookDelivery.Pending, 0), (after.State, after.Attempts));
        Assert.True((await App.QueryAsync(db => db.Webhooks.SingleAsync(w => w.Id == id))).Enabled);
        Assert.Single(await App.QueryAsync(db => db.AuditLog.Where(a => a.Action == "webhook.resend").ToListAsync()));
    }
}

public sealed class WebhookApiTestsOnSqlite() : WebhookApiTests(Backend.Sqlite);

public sealed class WebhookApiTestsOnPostgres() : WebhookApiTests(Backend.Postgres);
