using System.Net;
using Microsoft.AspNetCore.Diagnostics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Patron.Console;

namespace Patron.Metrics;

/// <summary><c>--Metrics:Otlp:Endpoint</c> and <c>--Metrics:Otlp:Protocol</c>: where and how the OTLP exporter sends metrics; no endpoint, no exporter.</summary>
public sealed class OtlpOptions
{
    public const string Grpc = "grpc";
    public const string HttpProtobuf = "http/protobuf";

    /// <summary>An absolute URL: <c>http://collector:4317</c> for gRPC, <c>http://collector:4318/v1/metrics</c> for HTTP.</summary>
    public string? Endpoint { get; set; }

    public string Protocol { get; set; } = Grpc;

    /// <summary>How often metrics are pushed, besides the last push at shutdown.</summary>
    public int IntervalSeconds { get; set; } = 60;

    public Uri? EndpointUri => Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;

    public bool IsValid => (string.IsNullOrEmpty(Endpoint) || EndpointUri is not null) && Protocol is Grpc or HttpProtobuf
        && IntervalSeconds is >= 1 and <= 3600;
}

/// <summary>
/// OpenTelemetry metrics (ASP.NET Core, Kestrel, Npgsql, the .NET runtime and Patron's meter), scraped at
/// <c>/metrics</c> and, with <c>Metrics:Otlp:Endpoint</c>, pushed over OTLP (docs/metrics.md).
/// </summary>
public static class MetricsSetup
{
    public const string ScrapePath = "/metrics";

    /// <summary>ASP.NET Core's instruments recorded per request, or per buffer rented, that /metrics leaves out.</summary>
    public static readonly string[] PerRequestNoise =
    [
        "http.server.active_requests", "aspnetcore.routing.match_attempts", "aspnetcore.authentication.authenticate.duration",
        "aspnetcore.memory_pool.rented", "aspnetcore.memory_pool.pooled", "aspnetcore.memory_pool.allocated", "aspnetcore.memory_pool.evicted",
    ];

    public static WebApplicationBuilder AddPatronMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<OtlpOptions>().BindConfiguration("Metrics:Otlp")
            .Validate(o => o.IsValid, "Metrics:Otlp:Endpoint must be an absolute http(s) URL, Metrics:Otlp:Protocol grpc or http/protobuf, and Metrics:Otlp:IntervalSeconds 1 to 3600")
            .ValidateOnStart();
        var otlp = builder.Configuration.GetSection("Metrics:Otlp").Get<OtlpOptions>() ?? new OtlpOptions();
        builder.Services.AddSingleton<LiveMetrics>();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("patron"))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    // Npgsql reports its pool and commands on a meter of this name by itself.
                    .AddMeter("Npgsql")
                    .AddMeter(PatronMetrics.MeterName)
                    // The runtime's own (collections, allocations, pauses, the thread pool's queue): observed
                    // at a scrape, but for exceptions, counted as they are thrown.
                    .AddMeter("System.Runtime")
                    // A scrape right after a write sees it: Prometheus scrapes every few seconds, so a cache saves nothing.
                    .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                // Dropped instruments are not listened to at all: these cost each request a few measurements
                // that say nothing http.server.request.duration and Patron's own counters do not.
                foreach (var name in PerRequestNoise)
                    metrics.AddView(name, MetricStreamConfiguration.Drop);
                if (otlp is { IsValid: true, EndpointUri: { } endpoint })
                    metrics.AddOtlpExporter((o, reader) =>
                    {
                        o.Endpoint = endpoint;
                        o.Protocol = otlp.Protocol == OtlpOptions.HttpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = otlp.IntervalSeconds * 1000;
                    });
            });
        return builder;
    }

    /// <summary>
    /// Counts answers of the native API and the console by route template and HTTP status. The
    /// partner APIs count in their envelopes, which know the errcode; other paths (health, metrics,
    /// static files) are not counted.
    /// </summary>
    public static IApplicationBuilder UseRequestMetrics(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var path = http.Request.Path;
        var api = path.StartsWithSegments("/api/v1") ? PatronMetrics.NativeApi
            : path.StartsWithSegments("/console") ? PatronMetrics.ConsoleApi
            : null;
        if (api is null)
        {
            await next(http);
            return;
        }
        try
        {
            await next(http);
        }
        finally
        {
            var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            PatronMetrics.Request(api, route, PatronMetrics.StatusTag(http.Response.StatusCode));
        }
    });

    /// <summary>
    /// The Prometheus scrape at <c>/metrics</c>, answered to a caller on this machine (loopback)
    /// or one presenting an operator's API token; anyone else gets 404 (no Authorization) or 401
    /// (a token that is not an operator's), with no body.
    /// </summary>
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapPrometheusScrapingEndpoint(ScrapePath, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (http, next) =>
        {
            if (MayScrape(http))
            {
                await next(http);
                return;
            }
            if (http.Features.Get<IStatusCodePagesFeature>() is { } pages)
                pages.Enabled = false;
            var presented = http.Request.Headers.Authorization.Count > 0;
            http.Response.StatusCode = presented ? StatusCodes.Status401Unauthorized : StatusCodes.Status404NotFound;
            if (presented)
                http.Response.Headers.WWWAuthenticate = "Bearer";
        }), optionsName: null).ExcludeFromDescription();

    private static bool MayScrape(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote)
        || http.User.Identity is { IsAuthenticated: true, AuthenticationType: OperatorAuth.TokenScheme };
}
