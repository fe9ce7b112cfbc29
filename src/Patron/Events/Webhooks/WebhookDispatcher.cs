using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Patron.Data;
using Patron.Writes;

namespace Patron.Events.Webhooks;

/// <summary>
/// Sends the outbox to the subscribers (docs/events.md): each pass makes the deliveries of the
/// events written since the last (<see cref="IDispatchStore.FanOutAsync"/>), claims the due ones
/// under a lease, sends them in parallel and settles them. Every instance runs one; claims never
/// overlap, and a delivery whose sender died is sent again when its lease runs out: at least once,
/// in order per subscriber and member.
/// </summary>
public sealed class WebhookDispatcher(IServiceScopeFactory scopes, IDispatchStore store, WebhookMessages messages, IHttpClientFactory http,
    WebhookOptions options, WebhookMetrics metrics, OutboxPruning pruning, WritePressure writes, TimeProvider clock, ILogger<WebhookDispatcher> log) : BackgroundService
{
    public const string HttpClientName = "webhooks";

    /// <summary>Deliveries a pass claims, per send in flight: a pass's reads and its one settling transaction serve them all.</summary>
    private const int ClaimsPerSend = 4;

    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);

    /// <summary>The lag takes a read; a gauge scraped every few seconds needs no fresher figure.</summary>
    private static readonly TimeSpan MeasureEvery = TimeSpan.FromSeconds(5);

    /// <summary>How long a pass waits for its sends before it leaves a slow subscriber's to settle by themselves.</summary>
    private static readonly TimeSpan PassWait = TimeSpan.FromSeconds(1);

    private readonly IReadOnlyList<TimeSpan> _retries = options.RetryWaits();

    /// <summary>
    /// Each subscriber's sends that a pass left running: until they are done, its deliveries are not
    /// claimed. Only passes touch it, one at a time.
    /// </summary>
    private readonly Dictionary<int, Task> _slow = [];
    private DateTimeOffset _prunedAt = DateTimeOffset.MinValue;
    private DateTimeOffset _measuredAt = DateTimeOffset.MinValue;
    private bool _claimedFull;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        if (!options.Enabled)
            return;
        while (!ct.IsCancellationRequested)
        {
            var goOn = false;
            try
            {
                goOn = await PassAsync(ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                if (StorageFault.IsUnavailable(e))
                    StorageFault.Report(log, e);
                else
                    log.LogError(e, "A webhook dispatch pass failed; the next pass takes it up again");
            }
            if (!goOn)
                await Task.Delay(TimeSpan.FromMilliseconds(options.PollMilliseconds), clock, ct).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// A pass, and whether the next may follow at once (its claim was full) rather than after the
    /// poll interval. The writes come first: while they are saturated (<see cref="WritePressure"/>)
    /// every delivery's CPU would come out of them, so a pass makes no new deliveries and one claim,
    /// and the next waits; the outbox lags through the peak (the lag gauge shows it) and drains
    /// after it.
    /// </summary>
    public async Task<bool> PassAsync(CancellationToken ct)
    {
        var yielding = writes.Saturated(TimeSpan.FromMilliseconds(options.PollMilliseconds));
        return await RunOnceAsync(ct, makeDeliveries: !yielding) >= options.Parallel * ClaimsPerSend && !yielding;
    }

    /// <summary>
    /// One round of fan-out, claim, send and settle. Returns how many deliveries it claimed. It makes
    /// new deliveries only once those already made run short (the last claim was not full), and not
    /// at all while the dispatcher yields to the writes (<paramref name="makeDeliveries"/> false): a
    /// claim also runs short when a slow subscriber's deliveries are left out, and through a peak
    /// the making waits with the sending for the peak to pass.
    /// </summary>
    public async Task<int> RunOnceAsync(CancellationToken ct, bool makeDeliveries = true)
    {
        var now = clock.GetUtcNow();
        if (now - _measuredAt >= MeasureEvery)
        {
            await MeasureLagAsync(now, ct);
            _measuredAt = now;
        }
        // Whole milliseconds: the lease is compared when settling, and each backend keeps its own precision.
        var lease = DateTimeOffset.FromUnixTimeMilliseconds((now + options.Lease).ToUnixTimeMilliseconds());
        if (!_claimedFull && makeDeliveries)
            await store.FanOutAsync(ct);
        var claimed = await store.ClaimAsync(now, lease, options.Parallel * ClaimsPerSend, [.. _slow.Where(s => !s.Value.IsCompleted).Select(s => s.Key)], ct);
        _claimedFull = claimed.Count == options.Parallel * ClaimsPerSend;
        if (claimed.Count > 0)
        {
            List<WebhookMessage> batch;
            await using (var scope = scopes.CreateAsyncScope())
                batch = await messages.LoadAsync(scope.ServiceProvider.GetRequiredService<PatronDb>(), claimed, now, ct);
            // Each subscriber's sends go and settle on their own: one that answers slowly holds back
            // only its own deliveries, which the next passes leave alone until these have settled.
            var groups = batch.GroupBy(m => m.Delivery.WebhookId).Select(g => (Webhook: g.Key, Sends: SendAndSettleAsync([.. g], ct))).ToList();
            using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                await Task.WhenAny(Task.WhenAll(groups.Select(g => g.Sends)), Task.Delay(PassWait, clock, waiting.Token));
                waiting.Cancel(); // the timer, when the sends were quicker
            }
            foreach (var (webhook, sends) in groups.Where(g => !g.Sends.IsCompleted))
                _slow[webhook] = sends;
        }
        if (now - _prunedAt >= PruneEvery)
        {
            await pruning.PruneAsync(now - TimeSpan.FromDays(options.KeepDays), ct);
            _prunedAt = now;
        }
        return claimed.Count;
    }

    /// <summary>
    /// One subscriber's deliveries of a pass: sent, at most <c>Parallel</c> at once, then settled
    /// together. A member's queue goes one delivery after another, in id order, and stops at the
    /// first that is not delivered: the rest wait for its retry, and their leases are given back.
    /// </summary>
    private async Task SendAndSettleAsync(List<WebhookMessage> batch, CancellationToken ct)
    {
        try
        {
            using var sending = new SemaphoreSlim(options.Parallel);
            var queues = batch.GroupBy(m => (m.Delivery.MemberId, Alone: m.Delivery.MemberId is null ? m.Delivery.Id : 0))
                .Select(q => SendQueueAsync([.. q.OrderBy(m => m.Delivery.Id)], sending, ct));
            var sent = await Task.WhenAll(queues);
            await SettleAsync([.. sent.SelectMany(q => q.Sent)], [.. sent.SelectMany(q => q.Unsent)], ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // The pass may be gone: what did not settle is sent again once its lease runs out.
            if (StorageFault.IsUnavailable(e))
                StorageFault.Report(log, e);
            else
                log.LogError(e, "Settling webhook deliveries failed; they are sent again when their lease runs out");
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<(List<(WebhookMessage Message, DeliverySettling Settling)> Sent, List<ClaimedDelivery> Unsent)> SendQueueAsync(
        List<WebhookMessage> queue, SemaphoreSlim sending, CancellationToken ct)
    {
        var sent = new List<(WebhookMessage, DeliverySettling)>(queue.Count);
        foreach (var message in queue)
        {
            WebhookAttempt attempt;
            await sending.WaitAsync(ct);
            try
            {
                attempt = await SendAsync(message, ct);
            }
            finally
            {
                sending.Release();
            }
            var d = message.Delivery;
            var outcome = DeliveryOutcome.Decide(attempt.Status, d.Attempts, d.DueAt, _retries, clock.GetUtcNow());
            sent.Add((message, new DeliverySettling(d, attempt, outcome, attempt.Error ?? (outcome.Metric == "delivered" ? null : $"HTTP {attempt.Status}"))));
            if (outcome.State != WebhookDelivery.Delivered)
                return (sent, [.. queue.Skip(sent.Count).Select(m => m.Delivery)]);
        }
        return (sent, []);
    }

    private async Task<WebhookAttempt> SendAsync(WebhookMessage message, CancellationToken ct)
    {
        var at = clock.GetUtcNow();
        var timestamp = at.ToUnixTimeSeconds();
        var attempt = new WebhookAttempt { DeliveryId = message.Delivery.Id, At = at };
        var watch = Stopwatch.StartNew();
        if (message.Keys.Length == 0)
        {
            attempt.Error = "not sent: the webhook's secret cannot be read";
            return attempt;
        }
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, message.Url) { Content = new StringContent(message.Body, Encoding.UTF8, "application/json") };
            request.Headers.Add("webhook-id", message.Id);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSignature.Sign(message.Id, timestamp, message.Body, message.Keys));
            var client = http.CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            attempt.Status = (int)response.StatusCode;
            // The answer is read under the same timeout: a receiver that sends headers and then stalls is not waited for.
            using var reading = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var left = TimeSpan.FromSeconds(options.TimeoutSeconds) - watch.Elapsed;
            reading.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            attempt.Answer = await StartOfAsync(response.Content, reading.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            attempt.Error = $"no answer within {options.TimeoutSeconds} s";
        }
        catch (HttpRequestException e)
        {
            attempt.Error = Cut(e.Message, 500);
        }
        catch (Exception e) when (e is InvalidOperationException or UriFormatException or IOException)
        {
            attempt.Error = Cut(e.Message, 500);
        }
        attempt.DurationMs = (int)Math.Min(int.MaxValue, watch.ElapsedMilliseconds);
        return attempt;
    }

    private static async Task<string?> StartOfAsync(HttpContent content, CancellationToken ct)
    {
        try
        {
            await using var stream = await content.ReadAsStreamAsync(ct);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[1000];
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await reader.ReadAsync(buffer.AsMemory(read), ct);
                if (n == 0)
                    break;
                read += n;
            }
            return read == 0 ? null : new string(buffer, 0, read);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            return null; // the status is what counts; an answer cut short is not kept
        }
    }

    /// <summary>Settles the pass's attempts in one transaction, then counts and logs those it settled.</summary>
    private async Task SettleAsync(List<(WebhookMessage Message, DeliverySettling Settling)> sent, List<ClaimedDelivery> unsent, CancellationToken ct)
    {
        var settled = await store.SettleAsync([.. sent.Select(x => x.Settling)], unsent, ct);
        foreach (var (message, s) in sent)
        {
            if (!settled.Contains(s.Claim.Id))
                continue;
            metrics.Settled(message.WebhookName, s.Outcome.Metric);
            if (s.Outcome.DisablesWebhook)
                log.LogWarning("Webhook {Webhook} answered 410 Gone: disabled", message.WebhookName);
            else if (s.Outcome.State == WebhookDelivery.Failed)
                log.LogWarning("Webhook {Webhook}: delivery {Delivery} failed after {Attempts} attempts ({Error})",
                    message.WebhookName, s.Claim.Id, s.Outcome.Attempts, s.Error);
        }
    }

    private async Task MeasureLagAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var oldestDue = await db.Set<WebhookDelivery>().AsNoTracking()
            .Where(d => d.State == WebhookDelivery.Pending && d.DueAt <= now && db.Set<Webhook>().Any(w => w.Id == d.WebhookId && w.Enabled))
            .OrderBy(d => d.DueAt).Select(d => (DateTimeOffset?)d.DueAt).FirstOrDefaultAsync(ct);
        var oldestNotMade = await store.OldestNotFannedOutAsync(ct);
        metrics.Lag(now - new[] { oldestDue ?? now, oldestNotMade ?? now }.Min());
    }

    private static string Cut(string text, int length) => text.Length <= length ? text : text[..length];
}
