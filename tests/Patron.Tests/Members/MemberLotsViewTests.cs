using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Channels;
using Patron.Points.Lots;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Members;

/// <summary>
/// What a member's lots look like to partners (queryMember), operators (/api/v1, the console):
/// pending points apart from the balance, what expires within 30 days, the live lots soonest to
/// expire first. The lots are written here directly, as the points decider would leave them.
/// </summary>
public abstract class MemberLotsViewTests(Backend backend) : PatronTest(backend)
{
    protected override bool BalancesAreTheirLots => false;

    // The channel directory's snapshot lives an hour, so that a test sees what it answers from it.
    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.UseSetting("Points:SettleSeconds", "3000000").UseSetting("Channels:CacheMilliseconds", "3600000");

    protected const long Member = 9;
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    /// <summary>Whole seconds: both backends keep instants to well under a second.</summary>
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(TestWorld.Clock.GetUtcNow().ToUnixTimeSeconds());

    private static DateTimeOffset Days(double n) => Now.AddDays(n);

    /// <summary>Member 9's lots, by bill; the balance is what the available ones hold (625).</summary>
    protected async Task SeedAsync()
    {
        // B-PAST is due and must stay unsettled: the settling job's run at start-up, which on a fast start
        // could come after the seed and expire it, must be over, and its next run is days away.
        await App.Services.GetRequiredService<PointsSettler>().StartUpRun;
        await App.QueryAsync(async db =>
        {
            var hkl = await db.Channels.Where(c => c.Name == "hkl-test").Select(c => c.Id).SingleAsync();
            var other = await db.Channels.Where(c => c.Name == "other").Select(c => c.Id).SingleAsync();
            PointLot Lot(string bill, string type, int? channel, long amount, long remaining, double available, double? expires, bool pending = false,
                long member = Member) => new()
            {
                MemberId = member, ChannelId = channel, BusiType = type, BusiBillNum = bill, Amount = amount, Remaining = remaining, Pending = pending,
                EarnedAt = Days(available - 1), AvailableAt = Days(available), ExpiresAt = expires is { } e ? Days(e) : null,
            };
            db.PointLots.AddRange(
                Lot("B-NEVER", "P", other, 300, 300, -5, null),
                Lot("B-29", "S", hkl, 100, 60, -60, 29),
                Lot("B-31", "P", other, 200, 200, -30, 31),
                Lot("B-PAST", "C", null, 50, 50, -400, -1), // past due: the job has not run yet
                Lot("B-PEND", "R", hkl, 70, 70, 5, 20, pending: true),
                Lot("B-SPENT", "S", hkl, 40, 0, -20, 1),
                Lot("B-29B", "S", hkl, 10, 10, -10, 29), // expires with B-29, available later: after it
                Lot("B-NEVER0", "P", hkl, 5, 5, -90, null),
                Lot("B-ELSE", "S", hkl, 999, 999, -3, 2, member: Member + 1));
            var member = await db.Members.SingleAsync(m => m.Id == Member);
            (member.Balance, member.LifetimeEarned) = (625, 775);
            return await db.SaveChangesAsync();
        });
    }

    private static readonly string[] Order = ["B-PAST", "B-PEND", "B-29", "B-29B", "B-31", "B-NEVER0", "B-NEVER"];

    [Fact]
    public async Task QueryMemberAnswersPendingApartFromTheBalanceAndWhatExpiresWithin30Days()
    {
        await SeedAsync();
        var openApi = new OpenApiClient(App.CreateClient());

        var query = await openApi.QueryMemberAsync("M0009");
        var register = await openApi.RegisterMemberAsync("M0009", "会员9", "13800000009");
        var other = await openApi.QueryMemberAsync("10");

        Assert.Equal((0, 0), (query.Code, register.Code));
        Assert.Equal(query.Data!.ToJsonString(), register.Data!.ToJsonString());
        // Expiring: B-29 60 + B-29B 10 + B-PAST 50; not B-31 (31 days), not the pending lot, not the spent one.
        Assert.Equal([625, 70, 775, 120], new[] { "balance", "pendingPoints", "lifetimePoints", "expiringPoints" }.Select(f => query.Data![f]!.GetValue<long>()));
        Assert.Equal([0, 999], new[] { "pendingPoints", "expiringPoints" }.Select(f => other.Data![f]!.GetValue<long>()));
    }

    [Fact]
    public async Task TheNativeApiListsTheLiveLotsSoonestToExpireFirst()
    {
        await SeedAsync();

        var member = (await OperatorClient().GetFromJsonAsync<JsonObject>($"/api/v1/members/{Member}"))!;
        var found = (await OperatorClient().GetFromJsonAsync<JsonArray>("/api/v1/members?q=M0009"))!.Single()!;

        Assert.Equal([625, 70, 120], new[] { "balance", "pendingPoints", "expiringPoints" }.Select(f => member[f]!.GetValue<long>()));
        Assert.Equal([70, 120], new[] { "pendingPoints", "expiringPoints" }.Select(f => found[f]!.GetValue<long>()));
        var lots = member["lots"]!.AsArray();
        Assert.Equal(Order, lots.Select(l => l!["busiBillNum"]!.GetValue<string>()));
        Assert.False(member["lotsCapped"]!.GetValue<bool>());
        var b29 = lots[2]!;
        Assert.Equal(
            ["id", "busiType", "busiBillNum", "channel", "amount", "remaining", "pending", "earnedAt", "availableAt", "expiresAt"],
            b29.AsObject().Select(p => p.Key));
        Assert.Equal(("S", "hkl-test", 100L, 60L, false), (S(b29, "busiType"), S(b29, "channel"), L(b29, "amount"), L(b29, "remaining"), b29["pending"]!.GetValue<bool>()));
        Assert.Equal((Days(-61), Days(-60), Days(29)), (T(b29, "earnedAt"), T(b29, "availableAt"), T(b29, "expiresAt")));
        Assert.EndsWith("+00:00", S(b29, "expiresAt"));
        Assert.True(lots[1]!["pending"]!.GetValue<bool>());
        Assert.Null(lots[0]!["channel"]);
        Assert.Null(lots[^1]!["expiresAt"]);
    }

    [Fact]
    public async Task TheConsolePageShowsTheLotsAndWhatIsPendingOrExpiring()
    {
        await SeedAsync();
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.ViewerUser, TestCatalog.ViewerPassword);

        var page = await session.Http.GetStringAsync($"/console/members/{Member}?culture=en");

        Assert.Contains("120 points expire in the next 30 days", page);
        Assert.Contains("70 points pending", page);
        var rows = Regex.Matches(page, "<tr class=\"lot\" data-lot=\"\\d+\" data-pending=\"(true|false)\">(.*?)</tr>", RegexOptions.Singleline);
        var cells = rows.Select(r => Regex.Matches(r.Groups[2].Value, "<td[^>]*>(.*?)</td>", RegexOptions.Singleline)
            .Select(c => Regex.Replace(WebUtility.HtmlDecode(Regex.Replace(c.Groups[1].Value, "<[^>]+>", " ")), "\\s+", " ").Trim()).ToArray()).ToList();
        Assert.Equal(Order, cells.Select(c => c[2]));
        Assert.Equal(["false", "true", "false", "false", "false", "false", "false"], rows.Select(r => r.Groups[1].Value));
        Assert.Equal([Local(Days(-61)), "S", "B-29", "hkl-test", "100", "60", Local(Days(-60)), Local(Days(29))], cells[2]);
        Assert.Equal("operator", cells[0][3]);
        Assert.Equal($"{Local(Days(5))} Pending", cells[1][6]);
        Assert.Equal("never", cells[^1][7]);
        Assert.DoesNotContain("B-SPENT", page);
        Assert.DoesNotContain("B-ELSE", page);
        Assert.DoesNotContain("id=\"lots-capped\"", page);
    }

    [Fact]
    public async Task MoreLotsThanTheListHoldsShowTheSoonestAndSaySoWhileTheSumsCountThemAll()
    {
        const int count = 205;
        await App.QueryAsync(db =>
        {
            // Lot i expires in 30 - i/10 days: the last ones written expire first.
            db.PointLots.AddRange(Enumerable.Range(0, count).Select(i => new PointLot
            {
                MemberId = Member, BusiType = "S", BusiBillNum = $"N-{i}", Amount = 1, Remaining = 1,
                EarnedAt = Days(-1), AvailableAt = Days(-1), ExpiresAt = Days(29 - i / 10.0),
            }));
            return db.SaveChangesAsync();
        });
        var session = new ConsoleSession(App);
        await session.SignInAsync(TestCatalog.ViewerUser, TestCatalog.ViewerPassword);

        var member = (await OperatorClient().GetFromJsonAsync<JsonObject>($"/api/v1/members/{Member}"))!;
        var page = await session.Http.GetStringAsync($"/console/members/{Member}?culture=en");

        var lots = member["lots"]!.AsArray();
        Assert.Equal(200, lots.Count);
        Assert.True(member["lotsCapped"]!.GetValue<bool>());
        Assert.Equal(("N-204", "N-5"), (S(lots[0]!, "busiBillNum"), S(lots[^1]!, "busiBillNum")));
        Assert.Equal(count, member["expiringPoints"]!.GetValue<long>());
        Assert.Equal(200, Regex.Count(page, "<tr class=\"lot\""));
        Assert.Contains("Only the 200 lots that expire soonest are listed.", page);
        Assert.Contains($"{count} points expire in the next 30 days", page);
    }

    [Fact]
    public async Task TheDetailSumsTheLotsItListsAsTheQueriesSumThemToTheEdgeOfTheWindow()
    {
        await SeedAsync();
        var horizon = Now + Patron.Members.MemberPoints.ExpiringWindow;
        await App.QueryAsync(db =>
        {
            PointLot Lot(string bill, long remaining, DateTimeOffset? expires, bool pending = false) => new()
            {
                MemberId = Member, BusiType = "S", BusiBillNum = bill, Amount = remaining, Remaining = remaining, Pending = pending,
                EarnedAt = Days(-2), AvailableAt = pending ? Days(1) : Days(-1), ExpiresAt = expires,
            };
            db.PointLots.AddRange(
                Lot("E-AT", 1_000, horizon), // at the horizon: expiring
                Lot("E-PAST", 2_000, horizon.AddSeconds(1)), // a second past it: not
                Lot("E-PEND", 4_000, Days(3), pending: true)); // pending first: never expiring as well
            return db.SaveChangesAsync();
        });

        // Sums from the listed lots (the detail view's road) and from the sums' query (every list's).
        var detail = await App.QueryAsync(db => Patron.Members.MemberPoints.DetailAsync(db, App.Services.GetRequiredService<ChannelDirectory>(), Member, Now,
            CancellationToken.None));
        var summed = await App.QueryAsync(db => Patron.Members.MemberPoints.LoadAsync(db, Member, Now, CancellationToken.None));

        Assert.False(detail!.Value.Lots.Capped);
        Assert.Equal(10, detail.Value.Lots.Items.Count);
        // Pending: B-PEND 70 + E-PEND 4,000. Expiring: B-29 60, B-29B 10, B-PAST 50 and E-AT 1,000.
        Assert.Equal(new Patron.Members.MemberPoints(4_070, 1_120), summed);
        Assert.Equal(summed, detail.Value.Points);
    }

    [Fact]
    public async Task ALotOfAChannelMadeSinceTheDirectoryReadTheTableIsNamed()
    {
        await SeedAsync();
        Assert.Equal("hkl-test", S((await OperatorClient().GetFromJsonAsync<JsonObject>($"/api/v1/members/{Member}"))!["lots"]![2]!, "channel"));
        // Another instance makes a channel, and it earns points for member 9: this instance's snapshot predates it.
        await App.QueryAsync(async db =>
        {
            var channel = new Channel { Name = "made-elsewhere", ApiKeyHash = "", DesKey = "", Cipher = "des", Scopes = "points.add" };
            db.Channels.Add(channel);
            await db.SaveChangesAsync();
            db.PointLots.Add(new PointLot
            {
                MemberId = Member, ChannelId = channel.Id, BusiType = "P", BusiBillNum = "B-ELSEWHERE", Amount = 8, Remaining = 8,
                EarnedAt = Days(-1), AvailableAt = Days(-1), ExpiresAt = Days(1),
            });
            return await db.SaveChangesAsync();
        });

        var lots = (await OperatorClient().GetFromJsonAsync<JsonObject>($"/api/v1/members/{Member}"))!["lots"]!.AsArray();

        var made = lots.Single(l => S(l!, "busiBillNum") == "B-ELSEWHERE")!;
        Assert.Equal("made-elsewhere", S(made, "channel"));
        Assert.Equal("hkl-test", S(lots.Single(l => S(l!, "busiBillNum") == "B-29")!, "channel"));
    }

    private static string Local(DateTimeOffset t) => TimeZoneInfo.ConvertTime(t, Shanghai).ToString("yyyy-MM-dd HH:mm");

    private static string S(JsonNode n, string f) => n[f]!.GetValue<string>();

    private static long L(JsonNode n, string f) => n[f]!.GetValue<long>();

    private static DateTimeOffset T(JsonNode n, string f) => DateTimeOffset.Parse(S(n, f), System.Globalization.CultureInfo.InvariantCulture);
}

public sealed class MemberLotsViewTestsOnSqlite() : MemberLotsViewTests(Backend.Sqlite);

public sealed class MemberLotsViewTestsOnPostgres() : MemberLotsViewTests(Backend.Postgres)
{
    /// <summary>
    /// A detail that read the channels' names while holding its rows' connection would, with the
    /// directory due a reload and no other connection free, wait on itself until the pool's timeout:
    /// a pool with one connection free and a snapshot that is always stale make that every time.
    /// </summary>
    [Fact]
    public async Task ADetailNeverWaitsOnItsOwnConnectionForTheChannelsNames()
    {
        await SeedAsync();
        // Start-up needs more than two at once (its lock, the migrations, the key ring); after it, all but one are taken here.
        const int poolSize = 4;
        var smallPool = new Npgsql.NpgsqlConnectionStringBuilder(Connection) { MaxPoolSize = poolSize, Timeout = 3 }.ConnectionString;
        await using var app = new PatronApp(Backend.Postgres.Storage, smallPool, null, configure: b => b.UseSetting("Channels:CacheMilliseconds", "0"));
        var pool = app.Services.GetRequiredService<Npgsql.NpgsqlDataSource>();
        var held = new List<Npgsql.NpgsqlConnection>();
        for (var i = 0; i < poolSize - 1; i++)
            held.Add(await pool.OpenConnectionAsync());

        var answer = await OperatorClient(app: app).GetAsync($"/api/v1/members/{Member}");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("hkl-test", (await answer.Content.ReadFromJsonAsync<JsonObject>())!["lots"]![2]!["channel"]!.GetValue<string>());
        foreach (var connection in held)
            await connection.DisposeAsync();
    }
}
