using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Patron.Events;
using Patron.Events.Webhooks;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Events;

/// <summary>
/// What only PostgreSQL has: instances sharing the tables, and writers committing side by side
/// (SQLite has one writer, so its events commit in id order and one dispatcher runs per file).
/// </summary>
public sealed class WebhookClaimTestsOnPostgres() : WebhookTestBase(Backend.Postgres)
{
    protected override int Parallel => 4;

    [Fact]
    public async Task TwoDispatchersOnOneDatabaseSendEachDeliveryOnce()
    {
        var second = StartApp(Time);
        for (var member = 11; member <= 30; member++)
            await AddPointsAsync(member, 10, $"D-{member}");
        await FanOutAsync(); // as either pass could; then both claim from the same deliveries

        var claims = new List<int>();
        while (true)
        {
            var pass = await Task.WhenAll(DispatchAsync(), DispatchAsync(second));
            claims.AddRange(pass);
            if (pass.Sum() == 0)
                break;
        }

        var ids = Receiver.At("/crm").Select(r => r.Id).ToList();
        Assert.Equal(20, ids.Count);
        Assert.Equal(20, ids.Distinct().Count()); // no delivery went twice
        Assert.True(claims.Where((_, i) => i % 2 == 1).Sum() > 0, "the second instance claimed some deliveries too");
        Assert.All(await DeliveriesAsync(), d => Assert.Equal((WebhookDelivery.Delivered, 1), (d.State, d.Attempts)));
    }

    [Fact]
    public async Task ClaimsMadeAtOnceAreDisjoint()
    {
        var second = StartApp(Time);
        for (var member = 11; member <= 40; member++)
            await AddPointsAsync(member, 10, $"C-{member}");
        await FanOutAsync();
        var claimed = new List<long>();
        for (var round = 0; round < 20; round++)
        {
            var ids = (await ClaimAtOnceAsync(second)).SelectMany(c => c).Select(c => c.Id).ToList();
            if (ids.Count == 0)
                break;
            claimed.AddRange(ids);
        }
        Assert.Equal(30, claimed.Count); // each member's one delivery, to crm
        Assert.Equal(claimed.Count, claimed.Distinct().Count());
    }

    /// <summary>
    /// One member's queue, claimed by four at once again and again: a claim takes the queue's next
    /// deliveries only when no other holds the ones before them, so one claim a round gets any.
    /// </summary>
    [Fact]
    public async Task ClaimsMadeAtOnceNeverTakeAMembersEventWhileAnotherHoldsTheOneBefore()
    {
        var second = StartApp(Time);
        for (var i = 1; i <= 30; i++)
            await AddPointsAsync(12, 1, $"Q-{i}");
        await FanOutAsync();
        var queue = (await DeliveriesAsync()).Select(d => d.Id).ToList();
        Assert.Equal(30, queue.Count);
        var taken = 0;
        while (taken < queue.Count)
        {
            var got = (await ClaimAtOnceAsync(second)).Where(c => c.Count > 0).ToList();
            var claim = Assert.Single(got);
            Assert.Equal(queue.Skip(taken).Take(3), claim.Select(c => c.Id).Order());
            taken += claim.Count;
            // Delivered, as the pass would settle them: the next round goes on behind them.
            await App.QueryAsync(db => db.Set<WebhookDelivery>().Where(d => d.LeasedUntil != null)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, WebhookDelivery.Delivered).SetProperty(d => d.LeasedUntil, (DateTimeOffset?)null)));
        }
    }

    /// <summary>
    /// A member's first delivery, free and due, but locked by another transaction (an operator's
    /// resend mid-commit): the claim skips the locked row, and must then take nothing behind it.
    /// </summary>
    [Fact]
    public async Task AClaimTakesNothingBehindADeliveryAnotherTransactionHolds()
    {
        for (var i = 1; i <= 3; i++)
            await AddPointsAsync(13, 1, $"H-{i}");
        await FanOutAsync();
        var queue = (await DeliveriesAsync()).Select(d => d.Id).ToList();
        var store = App.Services.GetRequiredService<IDispatchStore>();
        var now = Time.GetUtcNow();

        await using var holder = new NpgsqlConnection(Connection);
        await holder.OpenAsync();
        await using (var tx = await holder.BeginTransactionAsync())
        {
            await using (var hold = new NpgsqlCommand("UPDATE webhook_deliveries SET due_at = due_at WHERE id = $1", holder, tx)
            {
                Parameters = { new() { Value = queue[0] } },
            })
                await hold.ExecuteNonQueryAsync();
            Assert.Empty(await store.ClaimAsync(now, now + TimeSpan.FromMinutes(1), 10, [], CancellationToken.None));
            await tx.RollbackAsync();
        }

        var claimed = await store.ClaimAsync(now, now + TimeSpan.FromMinutes(1), 10, [], CancellationToken.None);
        Assert.Equal(queue, claimed.Select(c => c.Id).Order());
    }

    /// <summary>Four claims of three, two through each instance, let go together.</summary>
    private async Task<List<ClaimedDelivery>[]> ClaimAtOnceAsync(PatronApp second)
    {
        var now = Time.GetUtcNow();
        using var start = new ManualResetEventSlim();
        var claims = new[] { App, second, App, second }.Select(app => app.Services.GetRequiredService<IDispatchStore>()).Select(store => Task.Run(async () =>
        {
            start.Wait();
            return await store.ClaimAsync(now, now + TimeSpan.FromMinutes(1), 3, [], CancellationToken.None);
        })).ToList();
        start.Set();
        return await Task.WhenAll(claims);
    }

    [Fact]
    public async Task AnEventCommittedAfterALaterOneIsStillDelivered()
    {
        await App.QueryAsync(db => db.Set<Webhook>().Where(w => w.Name == "crm").ExecuteUpdateAsync(s => s.SetProperty(w => w.Events, "*")));

        // A writer that took its event id first and commits last.
        await using var slow = new NpgsqlConnection(Connection);
        await slow.OpenAsync();
        await using var tx = await slow.BeginTransactionAsync();
        await using var insert = new NpgsqlCommand(
            "INSERT INTO outbox_events (type, member_id, at, data) VALUES ('member.created', 31, $1, '{\"held\":true}') RETURNING id", slow, tx)
        {
            Parameters = { new() { Value = Time.GetUtcNow() } },
        };
        var held = (long)(await insert.ExecuteScalarAsync())!;

        await AddPointsAsync(32, 10, "L-1");
        await DispatchAsync();
        var later = Assert.Single(Receiver.Requests);
        Assert.True(long.Parse(later.Id["evt_".Length..]) > held);

        await tx.CommitAsync();
        await DispatchAsync();
        Assert.Equal([later.Id, $"evt_{held}"], Receiver.Requests.Select(r => r.Id));
        Assert.Contains("\"held\":true", Receiver.Requests.Last().Body);
    }
}
