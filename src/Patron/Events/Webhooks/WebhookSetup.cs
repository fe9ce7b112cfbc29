using Microsoft.Extensions.Options;
using Npgsql;

namespace Patron.Events.Webhooks;

public static class WebhookSetup
{
    /// <summary>The dispatcher and what it needs; settings in section <c>Webhooks</c>.</summary>
    public static WebApplicationBuilder AddPatronWebhooks(this WebApplicationBuilder builder, string storage)
    {
        var services = builder.Services;
        services.AddOptions<WebhookOptions>().BindConfiguration("Webhooks")
            .Validate(o => o.IsValid(),
                "Webhooks: PollMilliseconds, TimeoutSeconds, KeepDays and Parallel must be positive, and Retries a list such as \"5s,5m,30m,2h\"")
            .ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<WebhookOptions>>().Value);
        services.AddSingleton<WebhookMetrics>();
        services.AddSingleton<WebhookMessages>();
        services.AddSingleton<OutboxPruning>();
        if (storage == "postgres")
            services.AddSingleton<IDispatchStore>(sp => new PostgresDispatchStore(sp.GetRequiredService<NpgsqlDataSource>()));
        else
            services.AddSingleton<IDispatchStore, SqliteDispatchStore>();
        services.AddHttpClient(WebhookDispatcher.HttpClientName)
            .ConfigureHttpClient((sp, c) => c.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<WebhookOptions>().TimeoutSeconds))
            // A redirect is an answer like any other that is not 2xx: the subscriber's URL is the one operators set.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        // A line per send would drown the log, and a subscriber's URL may carry its own token; failures are logged by the dispatcher.
        builder.Logging.AddFilter("System.Net.Http.HttpClient." + WebhookDispatcher.HttpClientName, LogLevel.Warning);
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        return builder;
    }
}
