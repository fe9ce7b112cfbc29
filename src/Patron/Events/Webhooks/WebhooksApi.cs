using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Patron.Console;
using Patron.Data;

namespace Patron.Events.Webhooks;

public sealed record WebhookRequest(string? Name, string? Url, IReadOnlyList<string>? Events);

/// <summary>A signing secret, shown in this answer only: Patron keeps it encrypted and shows it nowhere else.</summary>
public sealed record WebhookSecret(int Id, string Name, string Secret);

/// <summary>The webhooks on /api/v1, as the console has them: viewers read, admins change.</summary>
public static class WebhooksApi
{
    public const int MaxLimit = 200;

    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/webhooks").WithTags("Webhooks");
        group.MapGet("/", async (PatronDb db, CancellationToken ct) => TypedResults.Ok(await WebhookViews.ListAsync(db, ct)));
        group.MapPost("/", CreateAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapPost("/{id:int}/rotate", RotateAsync).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapPost("/{id:int}/enable", (int id, ClaimsPrincipal user, PatronDb db, WebhookSecrets s, TimeProvider clock, CancellationToken ct) =>
            ChangeAsync(new WebhookAdmin(db, s, clock).SetEnabledAsync(user, id, true, ct))).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapPost("/{id:int}/disable", (int id, ClaimsPrincipal user, PatronDb db, WebhookSecrets s, TimeProvider clock, CancellationToken ct) =>
            ChangeAsync(new WebhookAdmin(db, s, clock).SetEnabledAsync(user, id, false, ct))).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapDelete("/{id:int}", (int id, ClaimsPrincipal user, PatronDb db, WebhookSecrets s, TimeProvider clock, CancellationToken ct) =>
            ChangeAsync(new WebhookAdmin(db, s, clock).DeleteAsync(user, id, ct))).RequireAuthorization(OperatorAuth.WritePolicy);
        group.MapGet("/{id:int}/deliveries", DeliveriesAsync);
        group.MapGet("/deliveries/{id:long}", DeliveryAsync);
        group.MapPost("/deliveries/{id:long}/resend", (long id, ClaimsPrincipal user, PatronDb db, WebhookSecrets s, TimeProvider clock, CancellationToken ct) =>
            ChangeAsync(new WebhookAdmin(db, s, clock).ResendAsync(user, id, ct))).RequireAuthorization(OperatorAuth.WritePolicy);
        return group;
    }

    public static async Task<Results<Created<WebhookSecret>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        WebhookRequest request, ClaimsPrincipal user, PatronDb db, WebhookSecrets secrets, TimeProvider clock, CancellationToken ct)
    {
        var outcome = await new WebhookAdmin(db, secrets, clock).CreateAsync(user, request.Name, request.Url, request.Events?.ToArray(), ct);
        if (outcome.Secret is not { } secret)
            return outcome.Refusal == WebhookRefusal.Invalid
                ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["webhook"] = [outcome.Error!] })
                : Problem(outcome);
        var id = await db.Webhooks.Where(w => w.Name == outcome.Done).Select(w => w.Id).SingleAsync(ct);
        return TypedResults.Created($"/api/v1/webhooks/{id}", new WebhookSecret(id, outcome.Done!, secret));
    }

    public static async Task<Results<Ok<WebhookSecret>, ProblemHttpResult>> RotateAsync(
        int id, ClaimsPrincipal user, PatronDb db, WebhookSecrets secrets, TimeProvider clock, CancellationToken ct)
    {
        var outcome = await new WebhookAdmin(db, secrets, clock).RotateAsync(user, id, ct);
        return outcome.Secret is { } secret ? TypedResults.Ok(new WebhookSecret(id, outcome.Done!, secret)) : Problem(outcome);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ChangeAsync(Task<WebhookOutcome> change)
    {
        var outcome = await change;
        return outcome.Error is null ? TypedResults.NoContent() : Problem(outcome);
    }

    public static async Task<Results<Ok<DeliveryPage>, ValidationProblem, ProblemHttpResult>> DeliveriesAsync(
        int id, string? state, long? before, int? limit, PatronDb db, CancellationToken ct)
    {
        if (state is not null && !WebhookViews.States.Contains(state))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["state"] = ["P, D or F"] });
        if (limit is < 1 or > MaxLimit)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"1 to {MaxLimit}"] });
        if (!await db.Webhooks.AnyAsync(w => w.Id == id, ct))
            return Problems.NotFound($"There is no webhook {id}.");
        return TypedResults.Ok(await WebhookViews.DeliveriesAsync(db, id, state, before, limit ?? 50, ct));
    }

    public static async Task<Results<Ok<DeliveryDetail>, ProblemHttpResult>> DeliveryAsync(long id, PatronDb db, CancellationToken ct) =>
        await WebhookViews.DeliveryAsync(db, id, ct) is { } detail ? TypedResults.Ok(detail) : Problems.NotFound($"There is no delivery {id}.");

    private static ProblemHttpResult Problem(WebhookOutcome outcome) => outcome.Refusal switch
    {
        WebhookRefusal.NotFound => Problems.NotFound(outcome.Error!),
        WebhookRefusal.Conflict => Problems.Conflict(outcome.Error!),
        _ => Problems.Invalid(outcome.Error!),
    };
}
