using System.Collections.Concurrent;
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
/// <remarks>
/// A batch whose members and cards the last reads saw, every card on sale, skips its read: it is
/// decided on what they saw, and its writes begin with <see cref="CheckKnownSql"/>, which fails the
/// whole round trip unless each member, card and the zone is still as seen. A saleNo sold before is
/// caught by its unique index. Either way nothing commits, and the batch is read and decided again.
/// </remarks>
public sealed class PostgresCardSaleWriter([FromKeyedServices(WriterConnections.Key)] NpgsqlDataSource data, GroupCommitOptions options, ILogger<PostgresCardSaleWriter> log, TimeProvider clock)
    : GroupCommit<SaleCall, Outcome<string>>(options, log), ICardSales
{
    /// <summary>Sales already recorded under the batch's saleNos.</summary>
    internal const string EarlierSalesSql = """
        SELECT s.* FROM (SELECT unnest($1::integer[]) AS channel_id, unnest($2::text[]) AS sale_no) AS k
        CROSS JOIN LATERAL (SELECT channel_id, sale_no, request_hash, result_json FROM card_sales AS c
            WHERE c.channel_id = k.channel_id AND c.sale_no = k.sale_no LIMIT 1) AS s
        """;

    /// <summary>The members the batch names, by code or id.</summary>
    internal const string MembersSql = "SELECT id, code FROM members WHERE code = ANY($1) OR id = ANY($2)";

    /// <summary>A card and its products as one text that changes whenever they do (a record's text quotes its fields).</summary>
    private const string CardVersion = """
        ROW(c.name, c.price, c.valid_days, c.on_sale)::text || coalesce((SELECT string_agg(
            ROW(p.id, p.name, p.total_used_num, p.cycle_days, p.cycle_num)::text, ',' ORDER BY p.id) FROM card_products p WHERE p.card_id = c.id), '')
        """;

    /// <summary>The cards sold, with their products and version.</summary>
    internal const string CardsSql = $"""
        SELECT c.id, c.name, c.price, c.valid_days, c.on_sale, p.id, p.name, p.total_used_num, p.cycle_days, p.cycle_num, {CardVersion}
        FROM cards c LEFT JOIN card_products p ON p.card_id = c.id AND p.card_id = ANY($1)
        WHERE c.id = ANY($1)
        ORDER BY c.id, p.id
        """;

    /// <summary>
    /// A batch decided on what the last reads saw: fails the statement, and with it the round trip,
    /// unless every member still has its code, every card its version, and the zone its setting.
    /// </summary>
    internal const string CheckKnownSql = $"""
        SELECT patron_expect_rows(
            (SELECT count(*) FROM members m
                WHERE m.id = ANY($1::bigint[]) AND m.code = ($2::text[])[array_position($1::bigint[], m.id)])
            + (SELECT count(*) FROM cards c
                WHERE c.id = ANY($3::text[]) AND ({CardVersion}) = ($4::text[])[array_position($3::text[], c.id::text)])
            + (coalesce((SELECT value FROM settings WHERE key = '{SettingKeys.TimeZone}'), '') = $5)::integer,
            cardinality($1::bigint[]) + cardinality($3::text[]) + 1)
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

    /// <summary>Past this many, the members seen are forgotten, to be seen again.</summary>
    private const int MembersKept = 100_000;

    /// <summary>Members by code, as the last reads saw them.</summary>
    private readonly ConcurrentDictionary<string, Member> _members = new(StringComparer.Ordinal);

    /// <summary>Cards with their products and version (<see cref="CardVersion"/>), as the last reads saw them.</summary>
    private readonly ConcurrentDictionary<string, (Card Card, string Version)> _cards = new(StringComparer.Ordinal);

    /// <summary>The business zone's setting as the last read saw it ("" for none).</summary>
    private volatile string? _zoneSetting;

    private readonly BatchPaths _paths = new();

    /// <summary>Batches decided after a read, and batches decided on what earlier reads saw that committed.</summary>
    internal (long Read, long Known) Paths => _paths.Counts;

    public Task<Outcome<string>> SellAsync(Channel channel, SaleRequest request, CancellationToken ct) =>
        SubmitAsync(new SaleCall(channel, request), ct);

    protected override async Task<Outcome<string>[]> CommitAsync(IReadOnlyList<SaleCall> batch, CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await data.OpenConnectionAsync(ct);
        return await _paths.SettleAsync(Seen(batch) is { } seen ? CommitSeenAsync(connection, batch, seen, now, ct) : null,
            async () =>
            {
                var (state, versions, zoneSetting) = await LoadAsync(connection, batch, ct);
                Remember(batch, state, versions, zoneSetting);
                var plan = CardSaleBatch.Decide(batch, state, now);
                if (plan.Sales.Count > 0)
                    await WriteAsync(connection, plan.Sales, check: null, ct);
                return plan.Outcomes;
            });
    }

    /// <summary>One round trip: the check that what the batch was decided on still holds, then its writes.</summary>
    private static async Task<Outcome<string>[]> CommitSeenAsync(NpgsqlConnection connection, IReadOnlyList<SaleCall> batch, SeenBatch seen,
        long now, CancellationToken ct)
    {
        var plan = CardSaleBatch.Decide(batch, seen.State, now);
        await WriteAsync(connection, plan.Sales, Check(seen), ct);
        return plan.Outcomes;
    }

    /// <summary>
    /// The batch's state as the last reads saw it, with the zone's setting, when they saw every
    /// member by the code the batch names and every card, on sale; otherwise null. Only codes: a
    /// reference may name a member's id, but a member with that code, unseen, would come first.
    /// </summary>
    private SeenBatch? Seen(IReadOnlyList<SaleCall> batch)
    {
        if (_zoneSetting is not { } setting)
            return null;
        var members = new Dictionary<string, Member>(StringComparer.Ordinal);
        var cards = new Dictionary<string, Card>(StringComparer.Ordinal);
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (_, request) in batch)
        {
            if (!_members.TryGetValue(request.MemberId, out var member) || !_cards.TryGetValue(request.CardInfoId, out var card) || !card.Card.OnSale)
                return null;
            members[request.MemberId] = member;
            (cards[request.CardInfoId], versions[request.CardInfoId]) = card;
        }
        return new SeenBatch(new CardSaleBatchState([], members, [], cards, BusinessZone.FromSetting(setting)), versions, setting);
    }

    private sealed record SeenBatch(CardSaleBatchState State, Dictionary<string, string> Versions, string ZoneSetting);

    /// <summary>The check that what a batch was decided on still holds.</summary>
    private static NpgsqlBatchCommand Check(SeenBatch seen)
    {
        var members = seen.State.MembersByCode.Values; // one a code, so one an id
        return new NpgsqlBatchCommand(CheckKnownSql)
        {
            Parameters =
            {
                new() { Value = members.Select(m => m.Id).ToArray() },
                new() { Value = members.Select(m => m.Code).ToArray() },
                new() { Value = seen.Versions.Keys.ToArray() },
                new() { Value = seen.Versions.Values.ToArray() },
                new() { Value = seen.ZoneSetting },
            },
        };
    }

    /// <summary>Keeps what a read saw, and forgets what it did not find, for the batches after it.</summary>
    private void Remember(IReadOnlyList<SaleCall> batch, CardSaleBatchState state, Dictionary<string, string> versions, string zoneSetting)
    {
        if (_members.Count > MembersKept)
            _members.Clear();
        foreach (var (_, request) in batch)
        {
            if (state.MembersByCode.TryGetValue(request.MemberId, out var member))
                _members[request.MemberId] = member;
            else
                _members.TryRemove(request.MemberId, out _);
            if (state.Cards.TryGetValue(request.CardInfoId, out var card))
                _cards[request.CardInfoId] = (card, versions[request.CardInfoId]);
            else
                _cards.TryRemove(request.CardInfoId, out _);
        }
        _zoneSetting = zoneSetting;
    }

    private static async Task<(CardSaleBatchState State, Dictionary<string, string> Versions, string ZoneSetting)> LoadAsync(NpgsqlConnection connection, IReadOnlyList<SaleCall> batch, CancellationToken ct)
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
        var versions = new Dictionary<string, string>();
        while (await r.ReadAsync(ct))
        {
            var id = r.GetString(0);
            if (!cards.TryGetValue(id, out var card))
            {
                cards[id] = card = new Card { Id = id, Name = r.GetString(1), Price = r.GetDecimal(2), ValidDays = r.GetInt32(3), OnSale = r.GetBoolean(4) };
                versions[id] = r.GetString(10);
            }
            if (!r.IsDBNull(5))
                card.Products.Add(new CardProduct
                {
                    CardId = id, Id = r.GetString(5), Name = r.GetString(6), TotalUsedNum = r.GetInt32(7), CycleDays = r.GetInt32(8), CycleNum = r.GetInt32(9),
                });
        }
        await r.NextResultAsync(ct);
        var setting = await r.ReadAsync(ct) ? r.GetString(0) : "";
        var state = new CardSaleBatchState(earlier, members.ToDictionary(m => m.Code), members.ToDictionary(m => m.Id), cards, BusinessZone.FromSetting(setting));
        return (state, versions, setting);
    }

    /// <summary>
    /// One round trip and one commit: the <paramref name="check"/> if any, the sales (whose new ids
    /// the cards take, matched by channel and saleNo), then the entries.
    /// </summary>
    private static async Task WriteAsync(NpgsqlConnection connection, List<IssuedSale> issued, NpgsqlBatchCommand? check, CancellationToken ct)
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
        if (check is not null)
            write.BatchCommands.Insert(0, check);
        await write.ExecuteNonQueryAsync(ct);
    }
}
