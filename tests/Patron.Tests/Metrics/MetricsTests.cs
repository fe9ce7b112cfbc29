using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Patron.Metrics;
using Patron.Points;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Metrics;

/// <summary>
/// /metrics through HTTP. Meters are process-wide, and other tests may run beside these, so a
/// series only this test can touch (its own channels) is checked exactly, a shared one by how
/// much it grew at least.
/// </summary>
public abstract class MetricsTests(Backend backend) : PatronTest(backend)
{
    private readonly string _channel = "m" + Guid.NewGuid().ToString("N")[..10];
    private string ApiKey => "pk_" + _channel;
    private string LimitedChannel => _channel + "-lim";
    private string LimitedKey => "pk_" + LimitedChannel;

    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        var channels = catalog["channels"]!.AsArray();
        channels.Add(Channel(_channel, ApiKey));
        var limited = Channel(LimitedChannel, LimitedKey);
        limited["rateLimit"] = new JsonObject { ["perSecond"] = 1, ["burst"] = 1 };
        channels.Add(limited);
        return catalog;
    }

    private static JsonObject Channel(string name, string apiKey) => new()
    {
        ["name"] = name, ["apiKey"] = apiKey, ["desKey"] = TestCatalog.DesKey, ["cipher"] = "des-ecb",
        ["scopes"] = new JsonArray("points.add", "card.use", "card.sale"),
    };

    protected override void ConfigureHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) => FakeRemoteAddress.AddTo(builder);

    private HttpClient Loopback => FakeRemoteAddress.From(App.CreateClient(), "127.0.0.1");

    private HttpClient Remote(string? token = null)
    {
        var client = FakeRemoteAddress.From(App.CreateClient(), "203.0.113.7");
        if (token is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    [Fact]
    public async Task PointsAddedAndSpentShowPerChannelTypeAndDirectionFromCommittedRowsOnly()
    {
        var partner = PartnerClient(App, ApiKey);
        var before = await Scrape.FromAsync(Loopback);

        Assert.Equal(0, (await partner.AddPointsAsync(1, "P", 40, "B-1", key: "k-1")).Errcode);
        Assert.Equal(0, (await partner.AddPointsAsync(1, "P", 40, "B-1", key: "k-1")).Errcode); // a retry: its kept answer
        Assert.Equal(0, (await partner.AddPointsAsync(1, "E", -15, "B-2")).Errcode);
        Assert.Equal(2201, (await partner.AddPointsAsync(1, "E", -1000, "B-3")).Errcode); // refused: no row
        var after = await Scrape.FromAsync(Loopback);

        Assert.Equal(40, after.Sum("patron_points_total", ("channel", _channel), ("direction", "added"), ("busiType", "P")));
        Assert.Equal(15, after.Sum("patron_points_total", ("channel", _channel), ("direction", "spent"), ("busiType", "E")));
        Assert.Equal(55, after.Sum("patron_points_total", ("channel", _channel)));
        AssertGrew(before, after, "patron_requests_total", 3, ("api", "points"), ("method", "Point/Add"), ("code", "0"));
        AssertGrew(before, after, "patron_requests_total", 1, ("api", "points"), ("method", "Point/Add"), ("code", "2201"));
        AssertGrew(before, after, "patron_writes_batch_size_count", 3, ("kind", "points"));
        AssertGrew(before, after, "patron_writes_commit_duration_seconds_count", 3, ("kind", "points"));
        Assert.True(after.Sum("patron_writes_commit_duration_seconds_sum", ("kind", "points")) > 0);
        Assert.True(after.Has("patron_writes_queue_depth"));
    }

    [Fact]
    public async Task CardUsesShowByOutcomeAndOpenApiCallsByMethodAndCode()
    {
        var openApi = new OpenApiClient(App.CreateClient());
        var before = await Scrape.FromAsync(Loopback);

        var card = (await openApi.SellAsync("S-M1", saleTime: "2026-01-05 10:00:00")).Data!["id"]!.GetValue<string>();
        Assert.Equal(0, (await openApi.UseAsync(card, "U-1", "2026-01-05 12:00:00")).Code);
        Assert.Equal(0, (await openApi.UseAsync(card, "U-2", "2026-01-06 12:00:00")).Code);
        Assert.Equal(2103, (await openApi.UseAsync(card, "U-3", "2026-01-07 12:00:00")).Code);
        Assert.Equal(0, (await openApi.UseAsync(card, "U-1", "2026-01-05 12:00:00")).Code); // a retry is no new use
        var after = await Scrape.FromAsync(Loopback);

        AssertGrew(before, after, "patron_card_uses_total", 2, ("outcome", "ok"));
        AssertGrew(before, after, "patron_card_uses_total", 1, ("outcome", "2103"));
        AssertGrew(before, after, "patron_requests_total", 3, ("api", "open"), ("method", "useMncard"), ("code", "0"));
        AssertGrew(before, after, "patron_requests_total", 1, ("api", "open"), ("method", "useMncard"), ("code", "2103"));
        AssertGrew(before, after, "patron_requests_total", 1, ("api", "open"), ("method", "sendMncardForSale"), ("code", "0"));
        AssertGrew(before, after, "patron_writes_batch_size_count", 4, ("kind", "card.use"));
        AssertGrew(before, after, "patron_writes_batch_size_count", 1, ("kind", "card.sale"));
    }

    [Fact]
    public async Task AnUnknownOpenApiMethodIsCountedAsUnknownNotByItsName()
    {
        var openApi = new OpenApiClient(App.CreateClient());

        var answer = await openApi.CallAsync("noSuchMethodXyz", new { a = 1 });
        var after = await Scrape.FromAsync(Loopback);

        Assert.Equal(1004, answer.Code);
        Assert.DoesNotContain(after.Series, s => s.Labels.Values.Contains("noSuchMethodXyz"));
        AssertAtLeast(after, 1, "patron_requests_total", ("api", "open"), ("method", "unknown"), ("code", "1004"));
    }

    [Fact]
    public async Task CallsOverAChannelsRateLimitAreCountedForThatChannel()
    {
        var partner = PartnerClient(App, LimitedKey);

        var answers = new List<int>();
        for (var i = 0; i < 4; i++)
            answers.Add((await partner.AddPointsAsync(2, "P", 1, $"R-{i}")).Errcode);
        var after = await Scrape.FromAsync(Loopback);

        var refused = answers.Count(c => c == 1007);
        Assert.True(refused >= 2, $"answers: {string.Join(", ", answers)}");
        Assert.Equal(refused, after.Sum("patron_rate_limited_total", ("channel", LimitedChannel)));
        AssertAtLeast(after, refused, "patron_requests_total", ("api", "points"), ("code", "1007"));
    }

    [Fact]
    public async Task NativeApiAndConsoleCallsAreCountedByRouteTemplateAndStatus()
    {
        using (await OperatorClient().GetAsync("/api/v1/members/3")) { }
        using (await OperatorClient().GetAsync("/api/v1/members/999999")) { }
        using (await App.CreateClient(new() { AllowAutoRedirect = false }).GetAsync("/console/login")) { }
        var after = await Scrape.FromAsync(Loopback);

        AssertAtLeast(after, 1, "patron_requests_total", ("api", "native"), ("method", "/api/v1/members/{id:long}"), ("code", "200"));
        AssertAtLeast(after, 1, "patron_requests_total", ("api", "native"), ("method", "/api/v1/members/{id:long}"), ("code", "404"));
        AssertAtLeast(after, 1, "patron_requests_total", ("api", "console"), ("code", "200"));
        Assert.DoesNotContain(after.Series, s => s.Name == "patron_requests_total" && s.Labels["method"].Contains("999999"));
    }

    [Fact]
    public async Task AspNetCoreNpgsqlAndRuntimeMetricsAreScrapedToo()
    {
        await Partner.AddPointsAsync(1, "P", 1);
        // ASP.NET Core records a request's duration once its answer has gone, which may be after the client has read it.
        var after = await Scrape.FromAsync(Loopback);
        for (var tries = 0; !after.Has("http_server_request_duration_seconds_count") && tries < 50; tries++)
        {
            await Task.Delay(100);
            after = await Scrape.FromAsync(Loopback);
        }

        Assert.True(after.Has("http_server_request_duration_seconds_count"));
        // Measured per request and read by nobody: left out, so nothing listens to them. Authentication's
        // sign-ins stay: an operator signing in to the console is rare and worth counting.
        string[] dropped =
            ["aspnetcore_memory_pool", "http_server_active_requests", "aspnetcore_routing_match_attempts", "aspnetcore_authentication_authenticate"];
        Assert.DoesNotContain(after.Series, s => dropped.Any(d => s.Name.StartsWith(d, StringComparison.Ordinal)));
        if (Backend == Backend.Postgres)
            Assert.Contains(after.Series, s => s.Name.StartsWith("db_client_", StringComparison.Ordinal));
        // The runtime's: what the collector costs, and whether the thread pool keeps up.
        string[] runtime = ["dotnet_gc_heap_total_allocated_bytes_total", "dotnet_gc_collections_total", "dotnet_gc_pause_time_seconds_total",
            "dotnet_thread_pool_queue_length", "dotnet_process_cpu_time_seconds_total"];
        Assert.All(runtime, name => Assert.True(after.Has(name), name));
    }

    [Fact]
    public async Task ARemoteCallerWithoutATokenIsRefusedWithNothingToRead()
    {
        using var anonymous = await Remote().GetAsync("/metrics");
        using var partnerKey = await Remote(TestCatalog.ApiKey).GetAsync("/metrics");
        using var badToken = await Remote("pat_no_such_token_000000").GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, partnerKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, badToken.StatusCode);
        foreach (var refused in new[] { anonymous, partnerKey, badToken })
            Assert.Equal("", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ARemoteCallerWithAnOperatorTokenIsAnswered()
    {
        await Partner.AddPointsAsync(1, "P", 1);

        var asViewer = await Scrape.FromAsync(Remote(TestCatalog.ViewerToken));

        Assert.True(asViewer.Has("patron_points_total"));
    }

    [Fact]
    public async Task ACallerOnLoopbackOverRealTcpNeedsNoToken()
    {
        await using var kestrel = new PatronApp(Backend.Storage, Connection, null);
        using var client = new HttpClient { BaseAddress = kestrel.StartKestrel() };

        using var response = await client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE ", await response.Content.ReadAsStringAsync());
    }

    /// <summary>Issue #24 item 5: what a request records costs no allocation, with OpenTelemetry and the live panel listening.</summary>
    [Fact]
    public void RecordingWhatARequestDoesAllocatesNothing()
    {
        var entries = new List<PointEntry>
        {
            new() { BusiType = "P", BusiBillNum = "B", ChangeValue = 5, ChannelId = 1, Actor = _channel },
            new() { BusiType = "E", BusiBillNum = "B", ChangeValue = -5, ChannelId = 1, Actor = _channel },
        };
        Outcome<string>[] outcomes = ["ok", new Failure(ErrorCode.CycleQuotaUsedUp, "full")];
        var limited = LimitedChannel;
        void Record()
        {
            PatronMetrics.Request(PatronMetrics.PointsApi, "Point/Add", PatronMetrics.CodeTag(0));
            PatronMetrics.Request(PatronMetrics.NativeApi, "/api/v1/members/{id:long}", PatronMetrics.StatusTag(200));
            PatronMetrics.RateLimited(limited);
            PatronMetrics.Committed("points", 2, Stopwatch.GetTimestamp());
            PatronMetrics.PointsCommitted(entries);
            PatronMetrics.CardUsesCommitted(1, outcomes);
        }
        for (var i = 0; i < 100; i++)
            Record(); // each series' first measurement sets it up

        var clock = Stopwatch.StartNew();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
            Record();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Under a byte a round: any allocation per request is at least 24 bytes a round. Other tests' hosts
        // share the meter, and one that starts listening meanwhile sets up its series once (CI saw 2,504 bytes).
        Assert.True(allocated < 10_000, $"{allocated} bytes for 10,000 rounds of a request's measurements");
        // Nine measurements a round: a few hundred ns each on an idle machine, against ~300 µs of CPU per request.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"10,000 rounds took {clock.Elapsed}");
    }

    [Fact]
    public async Task WithAnOtlpEndpointSetMetricsArePushedThere()
    {
        await using var collector = new OtlpReceiver();
        var app = new PatronApp(Backend.Storage, Connection, null, configure: b =>
        {
            b.UseSetting("Metrics:Otlp:Endpoint", collector.Url + "v1/metrics");
            b.UseSetting("Metrics:Otlp:Protocol", "http/protobuf");
            b.UseSetting("Metrics:Otlp:IntervalSeconds", "1");
        });
        Assert.Equal(0, (await PartnerClient(app, ApiKey).AddPointsAsync(3, "P", 7)).Errcode);

        // A periodic push, not the one at shutdown: whether that one goes out before the host's services are gone is the SDK's race.
        bool Pushed() => collector.Received.Any(r => r.Path == "/v1/metrics" && r.Body.Contains("patron.points"u8.ToArray()));
        var waited = Stopwatch.StartNew();
        while (!Pushed() && waited.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(100);
        await app.DisposeAsync();

        Assert.True(Pushed(), "no OTLP push carried patron.points within 30 s");
    }

    [Fact]
    public void AnOtlpEndpointThatIsNotAUrlStopsStartUp()
    {
        using var app = new PatronApp(Backend.Storage, Connection, null, configure: b => b.UseSetting("Metrics:Otlp:Endpoint", "collector:4317"));

        var refused = Assert.ThrowsAny<Exception>(() => app.Server);

        Assert.Contains("Metrics:Otlp:Endpoint", refused.ToString());
    }

    private static void AssertGrew(Scrape before, Scrape after, string name, double atLeast, params (string, string)[] labels) =>
        Assert.True(after.Sum(name, labels) - before.Sum(name, labels) >= atLeast,
            $"{name} {string.Join(",", labels)} grew {before.Sum(name, labels)} -> {after.Sum(name, labels)}, not by {atLeast}:\n{after.Dump(name)}");

    private static void AssertAtLeast(Scrape after, double atLeast, string name, params (string, string)[] labels) =>
        Assert.True(after.Sum(name, labels) >= atLeast, $"{name} {string.Join(",", labels)} is {after.Sum(name, labels)}, not {atLeast}:\n{after.Dump(name)}");
}

public sealed class MetricsTestsOnSqlite() : MetricsTests(Backend.Sqlite);

public sealed class MetricsTestsOnPostgres() : MetricsTests(Backend.Postgres);
