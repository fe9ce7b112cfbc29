using Npgsql;

namespace Patron.Events.Webhooks;

public static class WebhookSetup
{
    /// <summary>The dispatcher and what it needs; settings in section <c>Webhooks</c>.</summary>
    public static IServiceCollection AddPatronWebhooks(this IServiceCollection services, IConfiguration configuration, string storage)
    {
        var options = new WebhookOptions();
        configuration.GetSection("Webhooks").Bind(options);
        if (!options.IsValid())
            throw new InvalidOperationException(
                "Webhooks: PollMilliseconds, TimeoutSeconds, KeepDays and Parallel must be positive, and Retries a list such as \"5s,5m,30m,2h\"");
        services.AddSingleton(options);
        services.AddSingleton<WebhookMetrics>();
        services.AddSingleton<WebhookMessages>();
        if (storage == "postgres")
            services.AddSingleton<IDispatchStore>(sp => new PostgresDispatchStore(sp.GetRequiredService<NpgsqlDataSource>()));
        else
            services.AddSingleton<IDispatchStore, SqliteDispatchStore>();
        services.AddHttpClient(WebhookDispatcher.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds))
            // A redirect is an answer like any other that is not 2xx: the subscriber's URL is the one operators set.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        return services;
    }
}
