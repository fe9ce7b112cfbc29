using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Metrics;

/// <summary>
/// For orchestrators: <c>/health/live</c> answers 200 while the process serves (restart it when
/// not); <c>/health/ready</c> answers 200 only when the database answers and every migration this
/// build knows is applied, else 503 (send it no traffic yet). <c>/health</c> is unchanged.
/// </summary>
public static class HealthEndpoints
{
    /// <summary>Longer than a healthy database ever takes, shorter than an orchestrator's probe timeout.</summary>
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(3);

    public static void MapLiveAndReady(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health/live", () => TypedResults.Text("Healthy")).WithTags("Operations");
        routes.MapGet("/health/ready", ReadyAsync).WithTags("Operations");
    }

    public static async Task<IResult> ReadyAsync(PatronDb db, ILoggerFactory logs, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ReadyTimeout);
        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(timeout.Token)).ToList();
            if (pending.Count == 0)
                return TypedResults.Text("Healthy");
            return Unready($"{pending.Count} migration(s) not applied");
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is not OutOfMemoryException)
        {
            // Whatever stops the database answering (refused, gone, timed out) means not ready;
            // the reason goes to the log, not to whoever asks.
            logs.CreateLogger(typeof(HealthEndpoints)).LogWarning("Not ready: {Reason}", e.Message);
            return Unready("the database does not answer");
        }
    }

    private static IResult Unready(string reason) =>
        TypedResults.Text($"Unhealthy: {reason}", statusCode: StatusCodes.Status503ServiceUnavailable);
}
