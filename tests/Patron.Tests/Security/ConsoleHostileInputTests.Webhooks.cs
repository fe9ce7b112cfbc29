using System.Globalization;
using CsCheck;
using Microsoft.EntityFrameworkCore;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>The webhook pages: the subscription form, and the pages of deliveries.</summary>
public abstract partial class ConsoleHostileInputTests
{
    /// <summary>Every value the binder could take from a field, as a urlencoded and as a multipart form carries it.</summary>
    private static IEnumerable<string> Carried(WireField f) =>
        (f.Items?.Select(WireField.TextOf) ?? [f.Text]).SelectMany(v => new[] { v, HostileUrl.Utf8Safe(v).TrimStart('\uFEFF') });

    private static bool NoName(WireField f) => Carried(f).All(v => WebhookRules.NameError(v.Trim()) is not null);

    private static bool NoUrl(WireField f) => Carried(f).All(v => WebhookRules.UrlError(v.Trim()) is not null);

    private static bool NoEvents(WireField f) => WebhookRules.Events(f.Items?.Select(WireField.TextOf) ?? [f.Text]).Error is not null
        && WebhookRules.Events((f.Items?.Select(WireField.TextOf) ?? [f.Text]).Select(v => HostileUrl.Utf8Safe(v).TrimStart('\uFEFF'))).Error is not null;

    private static readonly Gen<WireField>[] Subscription =
        [Gen.Const(Str("name", "fz-hook")), Gen.Const(Str("url", "https://hooks.example/in")), Gen.OneOf(Str("events", "*"), Str("events", EventTypes.CardUsed))];

    /// <summary>A name, url or event type that no trimming, decoding or repetition makes acceptable.</summary>
    private static readonly Gen<WireField[]> SubscriptionPoison = Gen.Frequency(
        (2, Hostile.Odd("name").Where(NoName).Select(f => new[] { f })),
        (1, One(LongText(65, 200).Select(t => Str("name", t)), Gen.OneOf("a b", "名字", "a/b", "a.b", "\u0000", "a\u0000").Select(t => Str("name", t)))),
        (2, Hostile.Odd("url").Where(NoUrl).Select(f => new[] { f })),
        (2, Gen.OneOf("ftp://hooks.example/", "javascript:alert(1)", "//hooks.example/", "/in", "http://", "file:///etc/passwd", "https://hooks.example/\u0000",
            "https://hooks.example/a b", "mailto:a@b.example", "https://" + new string('h', 2000) + ".example").Select(t => new[] { Str("url", t) })),
        (2, Hostile.Odd("events").Where(NoEvents).Select(f => new[] { f })),
        (1, Gen.OneOf("points.exploded", "POINTS.CHANGED", "points.changed\u0000", "**", "card.*").Select(t => new[] { Str("events", t) })));

    [Fact]
    public Task WebhookFormRefusesHostileInput() => FuzzAsync("POST /console/webhooks", s => Posts(s, "new", Gen.Const("/console/webhooks"),
            WithPoison(Subscription, SubscriptionPoison),
            Seed($"name={new string('n', 1000)}&url=ftp://{new string('u', 1000)}&events={new string('e', 1000)}")),
        Refused());

    [Fact]
    public Task WebhookChangesRefuseHostileIds() => FuzzAsync("POST /console/webhooks?handler=…", s => Posts(s, "unknown",
            Gen.Select(Gen.OneOf("Rotate", "Enable", "Disable", "Delete"), UnknownMember, (h, id) => $"/console/webhooks?handler={h}&id={id}"),
            Gen.Const(Array.Empty<WireField>()), Seed("")),
        Refused());

    /// <summary>A disabled subscription with one delivery, so the pages have something to page through; no change the snapshot sees.</summary>
    private async Task<(int Webhook, long Delivery)> WebhookSeedAsync() => await App.QueryAsync(async db =>
    {
        if (await db.Webhooks.SingleOrDefaultAsync(w => w.Name == "fz-seeded") is not { } hook)
        {
            hook = new Webhook { Name = "fz-seeded", Url = "http://127.0.0.1:9/", Events = "*", Secret = "whsec_unused", Enabled = false, DisabledReason = "fuzz" };
            db.Webhooks.Add(hook);
            await db.SaveChangesAsync();
            db.WebhookDeliveries.Add(new WebhookDelivery { EventId = 1, WebhookId = hook.Id, MemberId = 1, State = WebhookDelivery.Failed, Attempts = 8 });
            await db.SaveChangesAsync();
        }
        return (hook.Id, await db.WebhookDeliveries.Where(d => d.WebhookId == hook.Id).Select(d => d.Id).FirstAsync());
    });

    [Fact]
    public async Task WebhookPagesAnswerHostileIdsAndFilters()
    {
        var (webhook, delivery) = await WebhookSeedAsync();
        var id = Gen.Frequency((3, Gen.Const(webhook.ToString(CultureInfo.InvariantCulture))), (2, UnknownMember));
        await FuzzAsync("GET /console/webhooks/…", s => Reads(s, "webhooks", Gen.Frequency(
            (3, Gen.Select(id, HostileUrl.Query(("state", Gen.Frequency((2, Gen.OneOf("P", "D", "F", "", "p", "X")), (1, Hostile.OddString))), ("before", AnyCursor)),
                (i, q) => $"/console/webhooks/{i}/deliveries{q}")),
            (2, Gen.Frequency((1, Gen.Const(delivery.ToString(CultureInfo.InvariantCulture))), (2, UnknownMember)).Select(d => $"/console/webhooks/deliveries/{d}")),
            (1, HostileUrl.Query(("id", AnyCursor)).Select(q => "/console/webhooks" + q)))), Read);
    }
}
