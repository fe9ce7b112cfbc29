using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Patron.Points;
using Patron.Points.Lots;
using Patron.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Patron.Tests.Faults;

/// <summary>
/// The settling job under SIGKILL. A thousand members hold lots that fall due one after another
/// over 45 seconds, on the system clock the service process keeps; the service settles every
/// second while partners add and spend points. It is killed at random, then restarted and killed
/// again as soon as the run it starts with writes its first X rows. After a clean start has
/// settled what was due, every due lot has expired exactly once, every answered Point/Add is in the
/// ledger exactly once, and every member's balance, lots and ledger agree.
/// </summary>
public abstract class ExpiryFaultTests(Backend backend, ITestOutputHelper output) : PatronTest(backend)
{
    private const int Members = 1000;
    private const int LotsPerMember = 4;
    private const int LotPoints = 20;
    private const int Clients = 16;
    private const int Cycles = 2;

    /// <summary>
    /// A first run may finish before the kill that waits for its first X row lands (it did, once, on
    /// PostgreSQL): the test kills again, up to this many times in all, until one cuts a run short.
    /// </summary>
    private const int MaxCycles = 6;

    /// <summary>
    /// Small batches whose answers are held 10 ms after their commit: a settling run, which waits for
    /// each chunk of members to be answered, then lasts long enough (a few hundred ms) for the kill
    /// that waits for its first X row to land inside it. Without them a run was over in tens of ms and
    /// six kills in a row missed it. The 16 clients still keep both writers busy beside it.
    /// </summary>
    private static readonly string[] Settings =
    [
        "--RateLimit:PermitsPerSecond", "0", "--Points:SettleSeconds", "1",
        "--GroupCommit:MaxBatch", "16", "--GroupCommit:AnswerDelayMilliseconds", "10",
    ];

    /// <summary>
    /// When the seeded lots fall due, from the seeding: some already due when the service starts, the
    /// rest while it is killed, and some after the test, so that every start finds lots to expire on
    /// a slow machine too.
    /// </summary>
    private static readonly (int From, int To) DueMilliseconds = (-5_000, 40_000);

    /// <summary>The test host only reads and seeds: on a clock stopped long before any lot is due, its own job never settles anything.</summary>
    protected override TimeProvider? Clock { get; } = new FakeTimeProvider(new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero));

    protected override JsonObject Catalog()
    {
        var catalog = TestCatalog.Build();
        var members = catalog["members"]!.AsArray();
        for (var id = TestCatalog.MemberCount + 1; id <= Members; id++)
            members.Add(new JsonObject { ["id"] = id, ["code"] = $"M{id:D4}", ["name"] = $"会员{id}", ["phone"] = $"139{id:D8}" });
        return catalog;
    }

    [Fact]
    public async Task SettlingKilledMidRunExpiresEachDueLotOnceAndLosesNoPointAdd()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await SeedAsync(DateTimeOffset.UtcNow);
        output.WriteLine($"{clock.Elapsed}: seeded");
        await using var service = new PatronProcess(Backend.Storage, Connection, TestCatalog.Write(Catalog()), Settings);
        await service.StartAsync();
        await using var load = new ExpiryLoad(service.BaseAddress);
        load.Start(Clients, Members);

        var kills = new List<string>();
        var cut = 0;
        var cycles = 0;
        for (; cycles < Cycles || (cut == 0 && cycles < MaxCycles); cycles++)
        {
            var cycle = cycles;
            await Task.Delay(Random.Shared.Next(300, 1500));
            await service.KillAsync();
            output.WriteLine($"{clock.Elapsed}: killed at random");

            // The run a start begins with, before it even listens, has every lot that fell due while the service was down to expire.
            var startedAt = DateTimeOffset.UtcNow;
            var before = await LastRowAsync();
            await service.StartAsync(healthy: false);
            var seen = await UntilAsync(() => App.QueryAsync(db => db.PointEntries.AnyAsync(e => e.AutoId > before && e.BusiType == Settlement.Expired)),
                TimeSpan.FromSeconds(15));
            await service.KillAsync();
            output.WriteLine($"{clock.Elapsed}: killed {(seen ? "as its first run wrote X rows" : "without an X row in 15 s")}");
            var (written, left) = await CutShortAsync(before, startedAt);
            // Both: that run had found members due before it began, expired some, and was killed before the others.
            cut += written > 0 && left > 0 ? 1 : 0;
            kills.Add($"the first run after start {cycle + 1}: {written} X row(s) written, {left} lot(s) due before it began still there");
            await service.StartAsync();
        }
        await Task.Delay(TimeSpan.FromSeconds(1));
        await load.StopAsync();

        // The clean start: every lot due before it is expired once its job has run.
        await service.KillAsync();
        var settledAt = DateTimeOffset.UtcNow;
        await service.StartAsync();
        Assert.True(await UntilAsync(async () => await DueLotsAsync(settledAt) == 0, TimeSpan.FromSeconds(20)), "due lots left after the clean start");
        await Task.Delay(TimeSpan.FromMilliseconds(1500)); // a run under way finds nothing more
        await service.KillAsync();

        output.WriteLine($"{clock.Elapsed}: settled");
        output.WriteLine(string.Join("\n", kills));
        output.WriteLine($"{load.Sent.Count} point adds and spends in {load.Attempts} attempts ({load.Unanswered} cut off or refused), " +
                         $"{load.Answers.Count(a => a.Value.Errcode == 2201)} refused as short");
        output.WriteLine(await VerifyAsync(load, settledAt));
        Assert.Equal(2 * cycles + 2, service.Starts);
        Assert.True(cut >= 1, "no kill cut a settling run half-way: " + string.Join("; ", kills));
    }

    /// <summary>
    /// Each member gets <see cref="LotsPerMember"/> lots of <see cref="LotPoints"/>, each due at its own
    /// moment, with the ledger rows that earned them and the balance they make: the invariants hold
    /// from the start.
    /// </summary>
    private async Task SeedAsync(DateTimeOffset now)
    {
        // Whole milliseconds, as both databases keep an instant.
        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
        var random = new Random(23);
        await App.QueryAsync(async db =>
        {
            var channel = await db.Channels.Where(c => c.Name == "hkl-test").Select(c => c.Id).SingleAsync();
            var earned = now.AddDays(-1);
            foreach (var member in await db.Members.ToListAsync())
            {
                for (var lot = 0; lot < LotsPerMember; lot++)
                {
                    var bill = $"SEED-{lot}";
                    var due = now.AddMilliseconds(random.Next(DueMilliseconds.From, DueMilliseconds.To));
                    db.PointLots.Add(new PointLot
                    {
                        MemberId = member.Id, ChannelId = channel, BusiType = "P", BusiBillNum = bill, Amount = LotPoints, Remaining = LotPoints,
                        EarnedAt = earned, AvailableAt = earned, ExpiresAt = due,
                    });
                    db.PointEntries.Add(new PointEntry
                    {
                        MemberId = member.Id, BusiType = "P", BusiBillNum = bill, ChangeValue = LotPoints, BalanceBefore = member.Balance,
                        BalanceAfter = member.Balance + LotPoints, LevelBefore = member.LevelId, LevelAfter = member.LevelId, ChannelId = channel,
                        Actor = "hkl-test", CreatedAt = earned.AddMilliseconds(lot), Earned = LotPoints,
                    });
                    member.Balance += LotPoints;
                    member.LifetimeEarned += LotPoints;
                }
            }
            var saved = await db.SaveChangesAsync();
            // The seeded rows' events, as the service would have written them, so the outbox checks hold for them too.
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO outbox_events (type, member_id, channel_id, at, ledger_id)
                SELECT 'points.changed', member_id, channel_id, created_at, auto_id FROM point_ledger WHERE busi_bill_num LIKE 'SEED-%'
                """);
            return saved;
        });
    }

    private Task<long> LastRowAsync() => App.QueryAsync(db => db.PointEntries.MaxAsync(e => e.AutoId));

    private Task<int> DueLotsAsync(DateTimeOffset now) =>
        App.QueryAsync(db => db.PointLots.CountAsync(l => !l.Pending && l.Remaining > 0 && l.ExpiresAt <= now));

    /// <summary>Right after a kill: X rows written since the start, and lots that were due before it and are still there.</summary>
    private Task<(int Written, int Left)> CutShortAsync(long before, DateTimeOffset startedAt) => App.QueryAsync(async db =>
        (await db.PointEntries.CountAsync(e => e.AutoId > before && e.BusiType == Settlement.Expired), await DueLotsAsync(startedAt)));

    private static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (await condition())
                return true;
            await Task.Delay(5);
        }
        return false;
    }

    private async Task<string> VerifyAsync(ExpiryLoad load, DateTimeOffset settledAt)
    {
        var members = await App.QueryAsync(db => db.Members.AsNoTracking().ToDictionaryAsync(m => m.Id));
        var lots = (await App.QueryAsync(db => db.PointLots.AsNoTracking().ToListAsync())).ToLookup(l => l.MemberId);
        var rows = await App.QueryAsync(db => db.PointEntries.AsNoTracking().OrderBy(e => e.AutoId).ToListAsync());

        // Every request answered; each one answered 0 is in the ledger once, as sent and answered; none refused is.
        Assert.Equal(load.Sent.Count, load.Answers.Count);
        var keyed = rows.Where(r => r.IdempotencyKey is not null).ToList();
        Assert.Equal(keyed.Count, keyed.Select(r => r.IdempotencyKey).Distinct().Count());
        Assert.Equal(load.Answers.Where(a => a.Value.Errcode == 0).Select(a => a.Key).Order(), keyed.Select(r => r.IdempotencyKey!).Order());
        foreach (var row in keyed)
        {
            var (member, type, value) = load.Sent[row.IdempotencyKey!];
            Assert.Equal((member, type, value, load.Answers[row.IdempotencyKey!].AutoId), (row.MemberId, row.BusiType, row.ChangeValue, row.AutoId));
        }

        var expiredRows = rows.Where(r => r.BusiType == Settlement.Expired).ToList();
        Assert.All(expiredRows, x => Assert.True(x.ChangeValue < 0 && x.IdempotencyKey is null && x.Actor == "system", $"X row {x.AutoId}"));
        var byMember = rows.ToLookup(r => r.MemberId);
        foreach (var (id, member) in members)
        {
            var own = byMember[id].ToList();
            var live = lots[id].ToList();
            // Balance = the available lots = the ledger, never below zero; each row chains on the one before.
            Assert.True(member.Balance >= 0, $"member {id}: balance {member.Balance}");
            Assert.Equal(member.Balance, live.Where(l => !l.Pending).Sum(l => l.Remaining));
            Assert.Equal(member.Balance, own.Sum(r => r.ChangeValue));
            Assert.Equal(member.LifetimeEarned, own.Sum(r => r.Earned));
            var balance = 0L;
            foreach (var row in own)
            {
                Assert.True(row.BalanceBefore == balance && row.BalanceAfter == balance + row.ChangeValue, $"member {id}: row {row.AutoId} does not chain");
                balance = row.BalanceAfter;
            }
            // Every due lot expired; what left the lots is what was spent and what expired, not a point more.
            Assert.DoesNotContain(live, l => l.Remaining > 0 && l.ExpiresAt <= settledAt);
            var spent = -own.Where(r => r.BusiType == "E").Sum(r => r.ChangeValue);
            var expired = -own.Where(r => r.BusiType == Settlement.Expired).Sum(r => r.ChangeValue);
            Assert.True(live.Sum(l => l.Amount - l.Remaining) == spent + expired,
                $"member {id}: lots gave {live.Sum(l => l.Amount - l.Remaining)}, spent {spent}, expired {expired}");
            // One X row per run that found something due: each finds a lot due since the X row before it.
            var previous = DateTimeOffset.MinValue;
            foreach (var x in own.Where(r => r.BusiType == Settlement.Expired))
            {
                Assert.True(live.Any(l => l.ExpiresAt > previous && l.ExpiresAt <= x.CreatedAt), $"member {id}: X row {x.AutoId} at {x.CreatedAt:O} expired no lot newly due");
                previous = x.CreatedAt;
            }
        }
        return $"{Members} members with {LotsPerMember} lots due each: {expiredRows.Count} X rows expired {-expiredRows.Sum(r => r.ChangeValue)} points; " +
               $"{rows.Count(r => r.IdempotencyKey is not null)} answered adds and spends in the ledger; lost 0, doubled 0";
    }
}

[Collection(FaultCollection.Name)]
public sealed class ExpiryFaultTestsOnSqlite(ITestOutputHelper output) : ExpiryFaultTests(Backend.Sqlite, output);

[Collection(FaultCollection.Name)]
public sealed class ExpiryFaultTestsOnPostgres(ITestOutputHelper output) : ExpiryFaultTests(Backend.Postgres, output);
