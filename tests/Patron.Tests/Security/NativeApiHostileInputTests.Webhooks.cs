using System.Text.Json.Nodes;
using CsCheck;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;
using static Patron.Tests.Infrastructure.WireField;

namespace Patron.Tests.Security;

/// <summary>Webhooks: a subscription no rule accepts, and ids that name nothing.</summary>
public abstract partial class NativeApiHostileInputTests
{
    /// <summary>The webhook routes with what would succeed, for <see cref="EveryRouteRefusesHostileCredentials"/> (DELETE is left out: there it is not a wrong method).</summary>
    private static (string Method, string Path, string? Body)[] WebhookRoutes =>
    [
        ("GET", "/webhooks", null), ("POST", "/webhooks", """{"name":"fz-new","url":"https://hooks.example/in","events":["*"]}"""),
        ("POST", "/webhooks/1/rotate", null), ("POST", "/webhooks/1/disable", null), ("GET", "/webhooks/1/deliveries", null),
        ("GET", "/webhooks/deliveries/1", null), ("POST", "/webhooks/deliveries/1/resend", null),
    ];

    /// <summary>Whether a JSON token, as a string field, is refused: not a string, or a string the rule refuses.</summary>
    private static bool Refuses(WireField f, Func<string?, string?> error) => !f.Json.StartsWith('"') || error(WireField.TextOf(f.Json).Trim()) is not null;

    private static bool RefusesEvents(WireField f)
    {
        try
        {
            return JsonNode.Parse(f.Json) is not JsonArray items || items.Any(i => i?.GetValueKind() != System.Text.Json.JsonValueKind.String)
                || WebhookRules.Events(items.Select(i => i!.GetValue<string>())).Error is not null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return true; // not JSON, or a string no UTF-16 text can hold (a lone surrogate's escape)
        }
    }

    private static readonly Gen<WireField?>[] Subscription =
        [Gen.Const<WireField?>(Str("name", "fz-hook")), Gen.Const<WireField?>(Str("url", "https://hooks.example/in")), Gen.Const<WireField?>(Raw("events", "[\"*\"]"))];

    private static readonly Gen<WireField[]> SubscriptionPoison = Gen.Frequency(
        (2, Hostile.Odd("name").Where(f => Refuses(f, WebhookRules.NameError)).Select(f => new[] { f })),
        (1, One(LongText(65, 200).Select(t => Str("name", t)), NotAString("name"), Gen.Const(Raw("name", "null")), Gen.OneOf("a b", "名字", "a.b").Select(t => Str("name", t)))),
        (2, Hostile.Odd("url").Where(f => Refuses(f, WebhookRules.UrlError)).Select(f => new[] { f })),
        (1, Gen.OneOf("ftp://hooks.example/", "javascript:alert(1)", "//hooks.example/", "/in", "http://", "https://hooks.example/a b").Select(t => new[] { Str("url", t) })),
        (2, Hostile.Odd("events").Where(RefusesEvents).Select(f => new[] { f })),
        (1, Gen.OneOf("[]", "null", "[\"points.exploded\"]", "[\"*\",1]", "\"*\"", "[[\"*\"]]", "{}").Select(v => new[] { Raw("events", v) })));

    [Fact]
    public Task WebhookCreationRefusesHostileInput() => FuzzAsync("POST /webhooks",
        Calls("POST", "new", Gen.Const("/webhooks"), Bodies(WithPoison(Subscription, SubscriptionPoison),
            System.Text.Encoding.UTF8.GetBytes($$"""{"name":"{{new string('n', 1000)}}","url":"ftp://x","events":["{{new string('e', 1000)}}"]}"""))),
        Refused);

    [Fact]
    public Task WebhookRoutesAnswerHostileIds() => FuzzAsync("/webhooks/{id}…", Gen.Frequency(
            (2, Calls("POST", "unknown", Gen.Select(Gen.OneOf("rotate", "enable", "disable"), Gen.Long[1000, int.MaxValue], (h, id) => $"/webhooks/{id}/{h}"),
                Gen.Const<(string, byte[]?)>(("none", null)))),
            (1, Calls("POST", "unknown", Gen.Long[1000, long.MaxValue].Select(id => $"/webhooks/deliveries/{id}/resend"), Gen.Const<(string, byte[]?)>(("none", null)))),
            (2, Reads("webhooks", Gen.Frequency((2, Gen.Long[1, long.MaxValue].Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                    (1, HostileUrl.Segment(Hostile.OddString)))
                .SelectMany(id => HostileUrl.Query(("state", Gen.Frequency((2, Gen.OneOf("P", "D", "F", "X", "")), (1, Hostile.OddString))), ("before", Hostile.OddNumber),
                    ("limit", Hostile.OddNumber)).Select(q => Gen.OneOf($"/webhooks/{id}/deliveries{q}", $"/webhooks/deliveries/{id}")).SelectMany(g => g))))),
        (call, answer) => call.Method == "GET" ? Answered()(call, answer) : Refused(call, answer));
}
