using Npgsql;
using Patron.Channels;
using Patron.Data;
using Patron.Members;

namespace Patron.Cards;

/// <summary>
/// sendMncardForSale through group commit on PostgreSQL: one round trip reads the batch's earlier
/// saleNos, members, cards and zone; one writes every sale, card and entry as one implicit
/// transaction (a batch up to one Sync: all of it commits or none). The reads lock nothing, so they
/// need no transaction with the writes: the unique (channel, saleNo) index decides a race with
/// another instance, and the batch is then decided again.
/// </summary>
public sealed class PostgresCardSaleWriter([FromKeyedServices(WriterConnections.Key)] NpgsqlDataSource data, GroupCommitOptions options, ILogger<PostgresCardSaleWriter> log, TimeProvider clock)
    : GroupCommit<SaleCall, Outcome<string>>(options, log), ICardSales
{
    /// <summary>Sales already recorded under the batch's saleNos.</summary>
    internal const string EarlierSalesSql = """
        SELECT channel_id, sale_no, request_hash, result_json FROM card_sales
        WHERE (channel_id, sale_no) IN (SELECT unnest($1::integer[]), unnest($2::text[]))
        """;

    /// <summary>The members the batch names, by code or id.</summary>
    internal const string MembersSql = "SELECT id, code FROM members WHERE code = ANY($1) OR id = ANY($2)";

    /// <summary>The cards sold, with their products.</summary>
    internal const string CardsSql = """
        SELECT c.id, c.name, c.price, c.valid_days, c.on_sale, p.id, p.name, p.total_used_num, p.cycle_days, p.cycle_num
        FROM cards c LEFT JOIN card_products p ON p.card_id = c.id
        WHERE c.id = ANY($1)
        ORDER BY c.id, p.id
        """;

    /// <summary>The sales, and the member cards that take their new ids.</summary>
    internal const string InsertSalesAndCardsSql = """
        WITH s AS (
            INSERT INTO card_sales (channel_id, channel_name, sale_no, card_info_id, member_id, member_code, num, pay_amt,
                sale_time, sale_user, sale_org_code, create_time, request_hash, result_json, status)
            SELECT unnest($1::integer[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::bigint[]),
                unnest($6::text[]), unnest($7::integer[]), unnest($8::numeric[]), unnest($9::bigint[]), unnest($10::text[]),
                unnest($11::text[]), unnest($12::bigint[]), unnest($13::text[]), unnest($14::text[]), 1
            RETURNING id, channel_id, sale_no)
        INSERT INTO member_cards (id, sale_id, card_info_id, member_id, member_code, status, begin_time, end_time, create_time, lock_version)
        SELECT c.id, s.id, c.card_info_id, c.member_id, c.member_code, 1, c.begin_time, c.end_time, c.create_time, 0
        FROM (SELECT
                unnest($15::text[]) AS id,
                unnest($16::integer[]) AS channel_id,
                unnest($17::text[]) AS sale_no,
                unnest($18::text[]) AS card_info_id,
                unnest($19::bigint[]) AS member_id,
                unnest($20::text[]) AS member_code,
                unnest($21::bigint[]) AS begin_time,
                unnest($22::bigint[]) AS end_time,
                unnest($23::bigint[]) AS create_time) AS c
        JOIN s ON s.channel_id = c.channel_id AND s.sale_no = c.sale_no
        """;

    /// <summary>The cards' usage entries.</summary>
    internal const string InsertEntriesSql = """
        INSERT INTO usage_entries (id, member_card_id, card_product_id, card_product_name, total_used_num, cycle_days, cycle_num,
            begin_time, end_time, create_time, has_used_num, last_cycle, last_cycle_used, posid, lock_version, status)
        SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::integer[]),
            unnest($6::integer[]), unnest($7::integer[]), unnest($8::bigint[]), unnest($9::bigint[]), unnest($10::bigint[]),
            0, 0, 0, NULL, 0, 1
        """;

    public Task<Outcome<string>> SellAsync(Channel channel, SaleRequest request, CancellationToken ct) =>
        SubmitAsync(new SaleCall(channel, request), ct);

    protected override async Task<Outcome<string>[]> CommitAsync(IReadOnlyList<SaleCall> batch, CancellationToken ct)
    {
        await using var connection = await data.OpenConnectionAsync(ct);
        var state = await LoadAsync(connection, batch, ct);
        var plan = CardSaleBatch.Decide(batch, state, clock.GetUtcNow().ToUnixTimeMilliseconds());
        if (plan.Sales.Count > 0)
            await WriteAsync(connection, plan.Sales, ct);
        return plan.Outcomes;
    }

    private static async Task<CardSaleBatchState> LoadAsync(NpgsqlConnection connection, IReadOnlyList<SaleCall> batch, CancellationToken ct)
    {
        var references = batch.Select(c => c.Request.MemberId).Distinct().ToArray();
        await using var read = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(EarlierSalesSql)
                {
                    Parameters =
                    {
                        new() { Value = batch.Select(c => c.Channel.Id).ToArray() },
                        new() { Value = batch.Select(c => c.Request.SaleNo).ToArray() },
                    },
                },
                new NpgsqlBatchCommand(MembersSql)
                {
                    Parameters =
                    {
                        new() { Value = references },
                        new() { Value = references.Select(r => long.TryParse(r, out var id) ? id : -1).ToArray() },
                    },
                },
                new NpgsqlBatchCommand(CardsSql)
                {
                    Parameters = { new() { Value = batch.Select(c => c.Request.CardInfoId).Distinct().ToArray() } },
                },
                new NpgsqlBatchCommand(SettingKeys.ValueSql) { Parameters = { new() { Value = SettingKeys.TimeZone } } },
            },
        };
        await using var r = await read.ExecuteReaderAsync(ct);
        var earlier = new Dictionary<(int, string), CardSale>();
        while (await r.ReadAsync(ct))
            earlier[(r.GetInt32(0), r.GetString(1))] = new CardSale
            {
                ChannelId = r.GetInt32(0), SaleNo = r.GetString(1), RequestHash = r.GetString(2), ResultJson = r.GetString(3),
                ChannelName = "", CardInfoId = "", MemberCode = "",
            };
        await r.NextResultAsync(ct);
        var members = new List<Member>();
        while (await r.ReadAsync(ct))
            members.Add(new Member { Id = r.GetInt64(0), Code = r.GetString(1) });
        await r.NextResultAsync(ct);
        var cards = new Dictionary<string, Card>();
        while (await r.ReadAsync(ct))
        {
            var id = r.GetString(0);
            if (!cards.TryGetValue(id, out var card))
                cards[id] = card = new Card { Id = id, Name = r.GetString(1), Price = r.GetDecimal(2), ValidDays = r.GetInt32(3), OnSale = r.GetBoolean(4) };
            if (!r.IsDBNull(5))
                card.Products.Add(new CardProduct
                {
                    CardId = id, Id = r.GetString(5), Name = r.GetString(6), TotalUsedNum = r.GetInt32(7), CycleDays = r.GetInt32(8), CycleNum = r.GetInt32(9),
                });
        }
        await r.NextResultAsync(ct);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(await r.ReadAsync(ct) ? r.GetString(0) : BusinessZone.Default);
        return new CardSaleBatchState(earlier, members.ToDictionary(m => m.Code), members.ToDictionary(m => m.Id), cards, zone);
    }

    /// <summary>One round trip and one commit: the sales (whose new ids the cards take, matched by channel and saleNo), then the entries.</summary>
    private static async Task WriteAsync(NpgsqlConnection connection, List<IssuedSale> issued, CancellationToken ct)
    {
        var sales = issued.Select(i => i.Sale).ToList();
        var cards = issued.SelectMany(i => i.Cards.Select(c => (i.Sale, Card: c))).ToList();
        var entries = cards.SelectMany(c => c.Card.Entries).ToList();
        await using var write = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(InsertSalesAndCardsSql)
                {
                    Parameters =
                    {
                        new() { Value = sales.Select(s => s.ChannelId).ToArray() },
                        new() { Value = sales.Select(s => s.ChannelName).ToArray() },
                        new() { Value = sales.Select(s => s.SaleNo).ToArray() },
                        new() { Value = sales.Select(s => s.CardInfoId).ToArray() },
                        new() { Value = sales.Select(s => s.MemberId).ToArray() },
                        new() { Value = sales.Select(s => s.MemberCode).ToArray() },
                        new() { Value = sales.Select(s => s.Num).ToArray() },
                        new() { Value = sales.Select(s => s.PayAmt).ToArray() },
                        new() { Value = sales.Select(s => s.SaleTime).ToArray() },
                        new() { Value = sales.Select(s => s.SaleUser).ToArray() },
                        new() { Value = sales.Select(s => s.SaleOrgCode).ToArray() },
                        new() { Value = sales.Select(s => s.CreateTime).ToArray() },
                        new() { Value = sales.Select(s => s.RequestHash).ToArray() },
                        new() { Value = sales.Select(s => s.ResultJson).ToArray() },
                        new() { Value = cards.Select(c => c.Card.Id).ToArray() },
                        new() { Value = cards.Select(c => c.Sale.ChannelId).ToArray() },
                        new() { Value = cards.Select(c => c.Sale.SaleNo).ToArray() },
                        new() { Value = cards.Select(c => c.Card.CardInfoId).ToArray() },
                        new() { Value = cards.Select(c => c.Card.MemberId).ToArray() },
                        new() { Value = cards.Select(c => c.Card.MemberCode).ToArray() },
                        new() { Value = cards.Select(c => c.Card.BeginTime).ToArray() },
                        new() { Value = cards.Select(c => c.Card.EndTime).ToArray() },
                        new() { Value = cards.Select(c => c.Card.CreateTime).ToArray() },
                    },
                },
                new NpgsqlBatchCommand(InsertEntriesSql)
                {
                    Parameters =
                    {
                        new() { Value = entries.Select(e => e.Id).ToArray() },
                        new() { Value = entries.Select(e => e.MemberCardId).ToArray() },
                        new() { Value = entries.Select(e => e.CardProductId).ToArray() },
                        new() { Value = entries.Select(e => e.CardProductName).ToArray() },
                        new() { Value = entries.Select(e => e.TotalUsedNum).ToArray() },
                        new() { Value = entries.Select(e => e.CycleDays).ToArray() },
                        new() { Value = entries.Select(e => e.CycleNum).ToArray() },
                        new() { Value = entries.Select(e => e.BeginTime).ToArray() },
                        new() { Value = entries.Select(e => e.EndTime).ToArray() },
                        new() { Value = entries.Select(e => e.CreateTime).ToArray() },
                    },
                },
            },
        };
        await write.ExecuteNonQueryAsync(ct);
    }
}
