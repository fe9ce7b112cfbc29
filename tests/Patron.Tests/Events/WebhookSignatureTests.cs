using System.Diagnostics;
using System.Text.Json.Nodes;
using Patron.Catalog;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

/// <summary>The signature against Standard Webhooks' own example, and the catalog's checks of a subscription.</summary>
public sealed class WebhookSignatureTests
{
    // The example of the Standard Webhooks reference libraries' tests.
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Id = "msg_p5jXN8AQM9LWM0D4loKWxJek", Body = "{\"test\": 2432232314}";
    private const long Timestamp = 1614265330;
    private const string Expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    [Fact]
    public void SignsAsStandardWebhooksDoes()
    {
        var key = WebhookSecrets.Key(Secret)!;
        Assert.Equal(Expected, WebhookSignature.Sign(Id, Timestamp, Body, key));
        Assert.Equal(Expected, WebhookTestBase.StandardSignature(Secret, Id, Timestamp, Body));
        Assert.True(WebhookSignature.Verify(Id, Timestamp, Body, $"v1,bm90IGl0 {Expected}", key));
        Assert.False(WebhookSignature.Verify(Id, Timestamp + 1, Body, Expected, key));
        Assert.False(WebhookSignature.Verify(Id, Timestamp, Body + " ", Expected, key));
        Assert.False(WebhookSignature.Verify(Id, Timestamp, Body, "v2," + Expected[3..], key));
    }

    [Fact]
    public void TheWorkedExampleOfTheDocsHolds()
    {
        var docs = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "events.md"));
        var body = docs.Split('\n').Single(l => l.StartsWith("{\"type\":\"points.changed\"", StringComparison.Ordinal) && l.Contains("autoId"));
        var key = WebhookSecrets.Key("whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=")!;
        Assert.Equal([.. Enumerable.Range(1, 32).Select(i => (byte)i)], key);
        var signature = WebhookSignature.Sign("evt_1042", 1770179400, body, key);
        Assert.Equal("v1,FnbEqUXpbqEcCSM/E6/hbwULoOU31acH0om0c32xWew=", signature);
        Assert.Contains($"webhook-signature: {signature}", docs);
    }

    [Theory]
    [InlineData("name", "bad name!", "webhooks[0].name: a name is 1 to 64 letters")]
    [InlineData("url", "ftp://example.com/hook", "webhooks[0].url: the url must be an absolute http:// or https:// address")]
    [InlineData("url", "/relative", "webhooks[0].url: the url must be an absolute")]
    [InlineData("events", "points.lost", "webhooks[0].events: unknown event type points.lost; known: points.changed")]
    [InlineData("secret", "whsec_c2hvcnQ=", "webhooks[0].secret: required, \"whsec_\" and the base64 of 24 to 64 bytes")]
    [InlineData("secret", "plain-text-secret-of-enough-length", "webhooks[0].secret: required")]
    public void ABadSubscriptionIsNamedAndItsSecretNotRepeated(string field, string value, string expected)
    {
        var hook = new JsonObject { ["name"] = "crm", ["url"] = "http://127.0.0.1:9/hook", ["events"] = new JsonArray("points.changed"), ["secret"] = Secret };
        hook[field] = field == "events" ? new JsonArray(value) : value;
        var catalog = TestCatalog.Build();
        catalog["webhooks"] = new JsonArray(hook);
        var message = Assert.Throws<CatalogException>(() => CatalogFile.Load(TestCatalog.Write(catalog))).Message;
        Assert.Contains(expected, message);
        Assert.DoesNotContain(Secret[6..], message);
        if (field == "secret")
            Assert.DoesNotContain(value, message.Replace("\"whsec_\"", ""));
    }

    [Fact]
    public void ATwiceListedOrEventlessSubscriptionIsRefused()
    {
        var catalog = TestCatalog.Build();
        catalog["webhooks"] = new JsonArray(
            new JsonObject { ["name"] = "crm", ["url"] = "https://example.com/a", ["events"] = new JsonArray("*"), ["secret"] = Secret },
            new JsonObject { ["name"] = "crm", ["url"] = "https://example.com/b", ["events"] = new JsonArray(), ["secret"] = Secret });
        var message = Assert.Throws<CatalogException>(() => CatalogFile.Load(TestCatalog.Write(catalog))).Message;
        Assert.Contains("webhooks[1].name: webhook 'crm' is listed twice", message);
        Assert.Contains("webhooks[1].events: choose at least one event type", message);
    }
}

/// <summary>A test that runs python3; where it is missing, skipped with the reason.</summary>
public sealed class PythonFactAttribute : FactAttribute
{
    public static string? Python => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(dir => Path.Combine(dir, "python3")).FirstOrDefault(File.Exists);

    public PythonFactAttribute()
    {
        if (Python is null)
            Skip = "python3 is not on PATH: docs/verify-webhook.py is not run";
    }
}

/// <summary>The verifier the README links, run against a delivery the dispatcher made.</summary>
public abstract class WebhookVerifierTests(Backend backend) : WebhookTestBase(backend)
{
    [PythonFact]
    public async Task TheDocumentedVerifierAcceptsADeliveryAndRefusesATamperedOne()
    {
        await AddPointsAsync(9, 10, "V-1");
        await DispatchAsync();
        var got = Assert.Single(Receiver.Requests);
        Assert.Equal((0, "valid"), await VerifyAsync(got.Id, got.Timestamp, got.Signature, got.Body));
        Assert.Equal((1, "invalid"), await VerifyAsync(got.Id, got.Timestamp, got.Signature, got.Body.Replace("V-1", "V-2")));
        Assert.Equal((1, "invalid"), await VerifyAsync(got.Id, got.Timestamp + 1, got.Signature, got.Body));
    }

    private static async Task<(int, string)> VerifyAsync(string id, long timestamp, string signature, string body)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "verify-webhook.py");
        var start = new ProcessStartInfo(PythonFactAttribute.Python!, [script, id, timestamp.ToString(), signature, "0"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, StandardInputEncoding = new System.Text.UTF8Encoding(false), Environment = { ["WEBHOOK_SECRET"] = CrmSecret },
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(body);
        process.StandardInput.Close();
        var output = (await process.StandardOutput.ReadToEndAsync()).Trim();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}

public sealed class WebhookVerifierTestsOnSqlite() : WebhookVerifierTests(Backend.Sqlite);

public sealed class WebhookVerifierTestsOnPostgres() : WebhookVerifierTests(Backend.Postgres);
