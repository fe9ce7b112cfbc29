using Microsoft.EntityFrameworkCore;
using Npgsql;
using Patron.Cards;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Data;

public sealed class ReadQueriesTestsOnPostgres() : ReadQueriesTests(Backend.Postgres)
{
    /// <summary>
    /// After a burst of sales the statistics still count what the tables held when they were taken:
    /// here 150 members of about 13 cards each, then 60,000 cards more. The planner then expects
    /// hundreds of cards for a member, and a join of the cards to their entries hashed the whole
    /// entries table at every call. Each card's entries are found through the index on their own,
    /// whatever the statistics say.
    /// </summary>
    [Fact]
    public async Task ACardListReadsTheEntriesByIndexWhenTheStatisticsAreStale()
    {
        // More members than the 100 values the statistics list: none is listed, each counts as the average.
        var hkl = await StaleStatisticsAsync(CopyCards(1, 2_000, members: 150), CopyCards(2_001, 62_000, members: 60_000));

        var plan = string.Join('\n', await PlanAsync(PostgresCardList.Sql, [("", 2L), ("", hkl)]));

        Assert.DoesNotMatch("Seq Scan on (usage_entries|member_cards|card_sales)", plan);
        Assert.Matches(@"Scan .*on usage_entries .* loops=10\)", plan); // a lookup for each of M0002's ten cards
        Assert.Equal(10, (await Hkl.CallAsync("queryMncardByMember", new { memberId = "M0002" })).Data!.AsArray().Count);
    }

    /// <summary>
    /// The member's cards by their index whatever the statistics say. Here they were taken while
    /// M0002 held nearly every card, so the planner expects tens of thousands of cards for it and,
    /// left to itself, reads <c>member_cards</c> whole. Under the list's settings it cannot, and
    /// with the sales joined plainly it merged the whole index of sales with the whole index of
    /// cards by sale instead; each card's sale is looked up on its own.
    /// </summary>
    [Fact]
    public async Task ACardListReadsTheMembersCardsByIndexWhateverTheStatisticsSay()
    {
        var hkl = await StaleStatisticsAsync(CopyCards(1, 2_000, members: 1, first: 2),
            "DELETE FROM usage_entries WHERE member_card_id IN (SELECT id FROM member_cards WHERE member_id = 2); " +
            "DELETE FROM member_cards WHERE member_id = 2; DELETE FROM card_sales WHERE member_id = 2; " + CopyCards(2_001, 62_000, members: 60_000));
        IReadOnlyList<(string, object?)> parameters = [("", 2L), ("", hkl)];

        var unset = string.Join('\n', await PlanAsync(PostgresCardList.Sql, parameters));
        var plan = string.Join('\n', await PlanAsync(PostgresCardList.Sql, parameters, PostgresCardList.PlanSettings));

        Assert.Contains("Seq Scan on member_cards", unset, StringComparison.Ordinal); // what the settings are for
        Assert.DoesNotMatch("Seq Scan on (usage_entries|member_cards|card_sales)", plan);
        Assert.Matches("Index Scan using \"IX_member_cards_member_id\" on member_cards .*\n *Index Cond: \\(member_id = ", plan);
        Assert.Matches(@"Scan .*on card_sales .* loops=10\)", plan); // a lookup for each of M0002's ten cards
        Assert.Matches(@"Scan .*on usage_entries .* loops=10\)", plan);
        Assert.Equal(10, (await Hkl.CallAsync("queryMncardByMember", new { memberId = "M0002" })).Data!.AsArray().Count);
    }

    /// <summary>The list's setting holds for the statement after it and ends with their round trip, never left on the pooled connection.</summary>
    [Fact]
    public async Task ACardListsSettingEndsWithItsRoundTrip()
    {
        var (during, after, notices) = await App.QueryAsync(async db =>
        {
            await db.Database.OpenConnectionAsync();
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var notices = new List<string>();
            connection.Notice += (_, e) => notices.Add(e.Notice.MessageText);
            string during;
            await using (var batch = PostgresCardList.Planned(connection, new NpgsqlBatchCommand("SELECT current_setting('enable_seqscan')"), set: true))
            await using (var r = await batch.ExecuteReaderAsync())
            {
                await r.NextResultAsync();
                await r.ReadAsync();
                during = r.GetString(0);
            }
            var after = await db.Database.SqlQueryRaw<string>("SELECT current_setting('enable_seqscan') AS \"Value\"").SingleAsync();
            return (during, after, notices);
        });

        Assert.Equal(("off", "on"), (during, after));
        Assert.Empty(notices);
    }

    /// <summary>
    /// Inside a caller's transaction the list's setting would last as long as the transaction, for
    /// statements of the caller's that it was never meant for: there the list goes without it.
    /// </summary>
    [Fact]
    public async Task ACardListInACallersTransactionLeavesItsSettingsAlone()
    {
        await SeedAsync();

        var (cards, setting) = await App.QueryAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var cards = await CardQueries.MemberCardsAsync(db, 1, TestWorld.Clock.GetUtcNow(), CancellationToken.None);
            var setting = await db.Database.SqlQueryRaw<string>("SELECT current_setting('enable_seqscan') AS \"Value\"").SingleAsync();
            await transaction.RollbackAsync();
            return (cards.Count, setting);
        });

        Assert.Equal(4, cards);
        Assert.Equal("on", setting);
    }

    /// <summary>
    /// The seeded card tables as <paramref name="analyzed"/> leaves them, analyzed, then changed by
    /// <paramref name="after"/> with no analyze to catch up; then M0002 buys ten cards. Returns the
    /// selling channel's id.
    /// </summary>
    private async Task<int> StaleStatisticsAsync(string analyzed, string after)
    {
        await SeedAsync();
        await App.QueryAsync(async db =>
        {
            await db.Database.ExecuteSqlRawAsync(
                "ALTER TABLE member_cards SET (autovacuum_enabled = false); ALTER TABLE usage_entries SET (autovacuum_enabled = false); " +
                "ALTER TABLE card_sales SET (autovacuum_enabled = false)");
            await db.Database.ExecuteSqlRawAsync(analyzed);
            await db.Database.ExecuteSqlRawAsync("ANALYZE member_cards, usage_entries, card_sales");
            return await db.Database.ExecuteSqlRawAsync(after);
        });
        Assert.Equal(0, (await Hkl.SellAsync("S-2-1", num: 10, memberId: "M0002")).Code);
        return await App.QueryAsync(db => db.Channels.Where(c => c.Name == "hkl-test").Select(c => c.Id).SingleAsync());
    }

    /// <summary>
    /// Sales <paramref name="from"/> to <paramref name="to"/> of a card with an entry, copies of member 1's first, spread over
    /// <paramref name="members"/> members from <paramref name="first"/> on.
    /// </summary>
    private static string CopyCards(int from, int to, int members, int first = 1000) => $"""
        WITH g AS (SELECT n FROM generate_series({from}, {to}) AS n),
        s AS (INSERT INTO card_sales (channel_id, channel_name, sale_no, card_info_id, member_id, member_code, num, pay_amt, sale_time,
                create_time, status, request_hash, result_json)
            SELECT channel_id, channel_name, 'B' || n, card_info_id, {first} + n % {members}, member_code, 1, pay_amt, sale_time,
                create_time, status, request_hash, '[]'
            FROM card_sales, g WHERE id = (SELECT min(id) FROM card_sales WHERE member_id = 1)
            RETURNING id, sale_no, member_id),
        c AS (INSERT INTO member_cards (id, sale_id, card_info_id, member_id, member_code, status, begin_time, end_time, create_time, time_zone, lock_version)
            SELECT s.sale_no, s.id, card_info_id, s.member_id, member_code, status, begin_time, end_time, create_time, time_zone, lock_version
            FROM member_cards, s WHERE member_cards.id = (SELECT min(id) FROM member_cards WHERE member_id = 1))
        INSERT INTO usage_entries (id, member_card_id, card_product_id, card_product_name, begin_time, end_time, create_time, cycle_days,
            cycle_num, has_used_num, last_cycle, last_cycle_used, lock_version, posid, status, total_used_num)
        SELECT 'E' || n, 'B' || n, card_product_id, card_product_name, begin_time, end_time, create_time, cycle_days,
            cycle_num, has_used_num, last_cycle, last_cycle_used, lock_version, posid, status, total_used_num
        FROM usage_entries, g WHERE id = (SELECT min(e.id) FROM usage_entries AS e JOIN member_cards AS m ON m.id = e.member_card_id WHERE m.member_id = 1)
        """;
}
