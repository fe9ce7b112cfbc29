using System.Globalization;
using CsCheck;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Security;

/// <summary>Sales, uses and the audit log: reads filtered by business day, channel, restaurant and cursor.</summary>
public abstract partial class NativeApiHostileInputTests
{
    /// <summary>Business days near today, the calendar's first and last days, impossible dates, other formats, and odd text.</summary>
    private static readonly Gen<string> AnyDate = Gen.Frequency(
        (3, Gen.Int[-400, 30].Select(d => DateOnly.FromDateTime(DateTime.UtcNow.AddDays(d)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))),
        (2, Gen.OneOf("0001-01-01", "0001-01-02", "9999-12-31", "9999-12-30", "2026-02-29", "2024-02-29", "2026-13-01", "2026-1-5", "20260105", "2026-01-05T00:00:00",
            "2026-01-05Z", "-0001-01-01", "1/5/2026", "5.1.2026", "2026-W01", "yesterday", "now", "", " 2026-01-05 ", "\uFF12\uFF10\uFF12\uFF16-01-05", "10000-01-01")),
        (2, Hostile.OddString));

    private static readonly Gen<string> AnyChannel = Gen.Frequency((2, Gen.OneOf(RealChannels)), (1, Hostile.OddString));

    private static Gen<string> Filters(params (string, Gen<string>)[] more) => HostileUrl.Query(
        [("from", AnyDate), ("to", AnyDate), ("channel", AnyChannel), ("restaurant", Gen.Frequency((2, Gen.OneOf("526", "POS-1")), (1, Hostile.OddString))), .. more]);

    [Fact]
    public Task SalesListAnswersHostileFilters() => FuzzAsync("GET /sales",
        Reads("sales", Filters(("before", AnyCursor), ("limit", AnyLimit)).Select(q => "/sales" + q)), Answered());

    [Fact]
    public Task SalesExportAnswersHostileFilters() => FuzzAsync("GET /sales.csv", Reads("export", Filters().Select(q => "/sales.csv" + q)), Answered("text/csv"));

    [Fact]
    public Task SaleLookupAnswersHostileSaleNumbers() => FuzzAsync("GET /sales/{saleNo}", Reads("sale", Gen.Select(
        Gen.Frequency((1, Gen.Const("FZ-SALE-1")), (4, UnknownName(["FZ-SALE-1"]))), HostileUrl.Query(("channel", AnyChannel)), (saleNo, q) => $"/sales/{saleNo}{q}")), Answered());

    [Fact]
    public Task UsesListAnswersHostileFilters() => FuzzAsync("GET /uses",
        Reads("uses", Filters(("before", AnyCursor), ("limit", AnyLimit)).Select(q => "/uses" + q)), Answered());

    [Fact]
    public Task AuditAnswersHostileQueries() => FuzzAsync("GET /audit", Reads("audit", HostileUrl.Query(
            ("entity", Gen.Frequency((2, Gen.OneOf("member", "card", "channel", "level", "operator")), (1, Hostile.OddString))),
            ("entityId", Gen.Frequency((2, Gen.OneOf("41", "1", TestCatalog.Card)), (1, Hostile.OddString))),
            ("before", AnyCursor), ("limit", AnyLimit))
        .Select(q => "/audit" + q)), Answered());
}
