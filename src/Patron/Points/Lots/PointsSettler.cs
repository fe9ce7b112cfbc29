using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Points.Lots;

/// <summary>How often the settling job looks for due lots and reviews: <c>--Points:SettleSeconds</c>.</summary>
public sealed class SettleOptions
{
    public int SettleSeconds { get; set; } = 60;
}

/// <summary>
/// The background job that expires lots, makes pending lots available and reviews levels, shortly
/// after each falls due. It only finds members with something due; each is settled by a request
/// on the points write road, decided under the member's lock like any Point/Add. So every instance
/// may run it at once, and a run killed half-way is simply run again: what was settled is no
/// longer due, and what was not is still there.
/// </summary>
public sealed class PointsSettler(IServiceScopeFactory scopes, PointsWrites points, SettleOptions options, TimeProvider clock,
    ILogger<PointsSettler> log) : BackgroundService
{
    /// <summary>Members looked up at a time.</summary>
    private const int Page = 500;

    /// <summary>
    /// Requests in flight at a time: a batch of this size shares a transaction with the Point/Adds
    /// queued beside it, and never keeps them waiting behind thousands of its own.
    /// </summary>
    private const int InFlight = 64;

    private readonly TaskCompletionSource _startUpRun = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Ends when the run the job makes at start-up has ended, however it ended.</summary>
    public Task StartUpRun => _startUpRun.Task;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(1, options.SettleSeconds));
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                if (StorageFault.IsUnavailable(e))
                    StorageFault.Report(log, e);
                else
                    log.LogError(e, "Settling points failed; the next run takes it up again");
            }
            finally
            {
                _startUpRun.TrySetResult();
            }
            await Task.Delay(interval, clock, ct).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>One run: settles every member with something due now. Returns how many members it changed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var settled = 0;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var policy = await PolicyAsync(db, ct);
        // Each kind of due work walks the members in id order through its own partial index, so a
        // member nothing is due for is passed once.
        var passes = new List<Func<long, Task<List<(long Id, bool Due)>>>>
        {
            after => DueAsync(db.PointLots.Where(l => l.Remaining > 0 && !l.Pending && l.ExpiresAt <= now), after, ct),
            after => DueAsync(db.PointLots.Where(l => l.Remaining > 0 && l.Pending && l.AvailableAt <= now), after, ct),
        };
        if (policy.ReviewMonths is { } months)
            passes.Add(after => DueReviewsAsync(db, now, months, policy.Zone, after, ct));
        foreach (var pass in passes)
        {
            var after = 0L;
            while (true)
            {
                var page = await pass(after);
                foreach (var chunk in page.Where(m => m.Due).Select(m => m.Id).Chunk(InFlight))
                    foreach (var outcome in await Task.WhenAll(chunk.Select(id => points.SettleAsync(id, ct))))
                        settled += outcome.Value is null ? 0 : 1;
                if (page.Count < Page)
                    break;
                after = page[^1].Id;
            }
        }
        if (settled > 0)
            log.LogInformation("Settled points: {Members} member(s) changed", settled);
        return settled;
    }

    private static async Task<List<(long Id, bool Due)>> DueAsync(IQueryable<PointLot> due, long after, CancellationToken ct) =>
        [.. (await due.AsNoTracking().Where(l => l.MemberId > after).Select(l => l.MemberId).Distinct().OrderBy(id => id).Take(Page)
            .ToListAsync(ct)).Select(id => (id, true))];

    /// <summary>
    /// A page of members whose review may be due, through the index on their level's date, each
    /// marked by <see cref="LevelReview.DueAt"/>, the rule itself: the cut-off also names, at a month's
    /// end, a few members not yet due.
    /// </summary>
    private static async Task<List<(long Id, bool Due)>> DueReviewsAsync(PatronDb db, DateTimeOffset now, int months, TimeZoneInfo zone,
        long after, CancellationToken ct)
    {
        var changedBy = LevelReview.ChangedBy(now, months, zone);
        var page = await db.Members.AsNoTracking().Where(m => m.Id > after && m.LevelSince <= changedBy)
            .OrderBy(m => m.Id).Select(m => new { m.Id, m.LevelSince }).Take(Page).ToListAsync(ct);
        return [.. page.Select(m => (m.Id, LevelReview.DueAt(m.LevelSince, now, months, zone) is not null))];
    }

    private static async Task<PointsPolicy> PolicyAsync(PatronDb db, CancellationToken ct)
    {
        var settings = await db.Settings.AsNoTracking().Where(s => PointsPolicy.Keys.Contains(s.Key)).ToDictionaryAsync(s => s.Key, s => s.Value, ct);
        return PointsPolicy.FromSettings([], settings);
    }
}
