using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Patron.Data;

/// <summary>
/// <c>/health</c>: healthy when the database answers a query against the migrated schema. The
/// query is shared (<see cref="SharedProbe"/>): a load balancer's checks during a rush, hundreds at
/// once, cost the database one query at a time instead of one each.
/// </summary>
public sealed class DatabaseHealthCheck(DatabaseProbe probe) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await probe.RunAsync(ct);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("database unavailable");
        }
    }
}

/// <summary>The database's side of <see cref="DatabaseHealthCheck"/>: one query, in a scope of its own, shared.</summary>
public sealed class DatabaseProbe(IServiceScopeFactory scopes)
{
    private static readonly CompiledQuery<Func<PatronDb, CancellationToken, Task<bool>>> AnySetting =
        new(() => EF.CompileAsyncQuery((PatronDb db, CancellationToken ct) => db.Settings.Any()));

    private readonly SharedProbe _shared = new(async () =>
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        await AnySetting.For(db)(db, CancellationToken.None);
    });

    /// <summary>Completes when a query begun after this call has answered; throws what it threw.</summary>
    public Task RunAsync(CancellationToken ct) => _shared.RunAsync(ct);
}

/// <summary>
/// One probe at a time, shared by its callers. A caller never takes the answer of a probe that
/// was already under way when it called: whoever comes while one runs waits for the next, which
/// begins when the running one ends and answers all who came meanwhile. So each answer is as
/// fresh as a probe of the caller's own, at most two probes late.
/// </summary>
public sealed class SharedProbe(Func<Task> probe)
{
    private readonly Lock _gate = new();

    /// <summary>The callers waiting for a probe that has not begun; null when none waits.</summary>
    private TaskCompletionSource? _next;

    private bool _running;

    /// <summary>The caller's cancellation ends its own wait, never the probe others wait for.</summary>
    public Task RunAsync(CancellationToken ct)
    {
        TaskCompletionSource waiting;
        var begin = false;
        lock (_gate)
        {
            waiting = _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_running)
            {
                (_running, _next, begin) = (true, null, true);
            }
        }
        // Not on the caller's thread: a probe that completes synchronously (SQLite's) would keep
        // it probing for everyone who comes meanwhile before its own call returned.
        if (begin)
            _ = Task.Run(() => ProbeAsync(waiting), CancellationToken.None);
        return waiting.Task.WaitAsync(ct);
    }

    private async Task ProbeAsync(TaskCompletionSource callers)
    {
        while (true)
        {
            try
            {
                await probe();
                callers.SetResult();
            }
            catch (Exception e)
            {
                callers.SetException(e);
            }
            lock (_gate)
            {
                if (_next is null)
                {
                    _running = false;
                    return;
                }
                (callers, _next) = (_next, null);
            }
        }
    }
}
