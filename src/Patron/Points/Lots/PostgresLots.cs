using System.Data.Common;
using Npgsql;
using static Patron.Writes.PostgresSql;

namespace Patron.Points.Lots;

/// <summary>The lots' share of the PostgreSQL points store: reading a lot, adding and updating them a batch at a time.</summary>
public static class PostgresLots
{
    public const string Columns = "id, member_id, channel_id, busi_type, busi_bill_num, amount, remaining, pending, earned_at, available_at, expires_at";

    internal const string InsertSql = """
        INSERT INTO point_lots (member_id, channel_id, busi_type, busi_bill_num, amount, remaining, pending, earned_at, available_at, expires_at)
        SELECT unnest($1::bigint[]), unnest($2::integer[]), unnest($3::text[]), unnest($4::text[]), unnest($5::bigint[]),
            unnest($6::bigint[]), unnest($7::boolean[]), unnest($8::timestamptz[]), unnest($9::timestamptz[]), unnest($10::timestamptz[])
        """;

    /// <summary>What spending, reversing, expiring and activating left of each lot; <c>id = ANY</c> keeps the plan an index lookup.</summary>
    internal const string UpdateSql = """
        UPDATE point_lots AS l SET remaining = u.remaining, pending = u.pending
        FROM (SELECT unnest($1::bigint[]) AS id, unnest($2::bigint[]) AS remaining, unnest($3::boolean[]) AS pending) AS u
        WHERE l.id = u.id AND l.id = ANY($1)
        """;

    public static PointLot Read(DbDataReader r) => new()
    {
        Id = r.GetInt64(0), MemberId = r.GetInt64(1), ChannelId = r.IsDBNull(2) ? null : r.GetInt32(2), BusiType = r.GetString(3),
        BusiBillNum = r.GetString(4), Amount = r.GetInt64(5), Remaining = r.GetInt64(6), Pending = r.GetBoolean(7),
        EarnedAt = r.GetFieldValue<DateTimeOffset>(8), AvailableAt = r.GetFieldValue<DateTimeOffset>(9),
        ExpiresAt = r.IsDBNull(10) ? null : r.GetFieldValue<DateTimeOffset>(10),
    };

    public static NpgsqlBatchCommand? Insert(List<PointLot> lots) => lots.Count == 0 ? null : Command(InsertSql,
    [
        lots.Select(l => l.MemberId).ToArray(), lots.Select(l => l.ChannelId).ToArray(), lots.Select(l => l.BusiType).ToArray(),
        lots.Select(l => l.BusiBillNum).ToArray(), lots.Select(l => l.Amount).ToArray(), lots.Select(l => l.Remaining).ToArray(),
        lots.Select(l => l.Pending).ToArray(), lots.Select(l => l.EarnedAt).ToArray(), lots.Select(l => l.AvailableAt).ToArray(),
        lots.Select(l => l.ExpiresAt).ToArray(),
    ]);

    public static NpgsqlBatchCommand? Update(List<PointLot> lots) => lots.Count == 0 ? null : Command(UpdateSql,
        [lots.Select(l => l.Id).ToArray(), lots.Select(l => l.Remaining).ToArray(), lots.Select(l => l.Pending).ToArray()]);
}
