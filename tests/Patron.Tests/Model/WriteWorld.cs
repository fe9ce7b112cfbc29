using System.Globalization;
using System.Text.Json.Nodes;
using CsCheck;
using Patron.Levels;
using Patron.Points.Lots;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Model;

public sealed record ProductDef(string Id, int Total, int CycleDays, int CycleNum);

public sealed record CardDef(string Id, int ValidDays, bool OnSale, ProductDef[] Products);

/// <summary>
/// The test catalog with levels close together and a card with tight quotas, so that short runs
/// reach promotions, 2201, 2103 and 2104 often. The model reads the same definitions.
/// </summary>
public static class ModelCatalog
{
    public const int Members = 3;

    public static readonly LevelTable Levels = new(
        [new Level { Id = 1, Name = "普通会员", Threshold = 0 }, new Level { Id = 2, Name = "银卡会员", Threshold = 50 },
         new Level { Id = 64, Name = "金卡会员", Threshold = 150 }], LevelBasis.Lifetime);

    public static readonly CardDef[] Cards =
    [
        new(TestCatalog.Card, 30, true, [new("P-NOODLE", 8, 7, 2)]),
        new("LMODELTIGHT01", 10, true, [new("P-A", 2, 3, 1), new("P-B", 3, 5, 2)]),
        new(TestCatalog.OffSaleCard, 30, false, [new("P-X", 1, 1, 1)]),
    ];

    public static readonly TimeZoneInfo Zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    public static readonly PointsPolicy Policy = new(Levels, PointsExpiry.Never, null, Zone);

    public static CardDef Card(string id) => Cards.Single(c => c.Id == id);

    public static JsonObject Build()
    {
        var catalog = TestCatalog.Build();
        catalog["levels"] = new JsonArray([.. Levels.Levels.Select(l => (JsonNode)new JsonObject { ["id"] = l.Id, ["name"] = l.Name, ["threshold"] = l.Threshold })]);
        catalog["cards"] = new JsonArray([.. Cards.Select(c => (JsonNode)new JsonObject
        {
            ["id"] = c.Id, ["name"] = c.Id, ["price"] = 11.22m, ["validDays"] = c.ValidDays, ["onSale"] = c.OnSale,
            ["products"] = new JsonArray([.. c.Products.Select(p => (JsonNode)new JsonObject
            {
                ["id"] = p.Id, ["name"] = p.Id, ["totalUsedNum"] = p.Total, ["cycleDays"] = p.CycleDays, ["cycleNum"] = p.CycleNum,
            })]),
        })]);
        return catalog;
    }
}

// Member index ModelCatalog.Members is a member that does not exist.
/// <param name="Channel">0 the hkl-test channel, 1 the other (its points pending); only the lifecycle's world uses 1.</param>
/// <param name="Of">A reversal's earning: the template whose member, channel, type and bill it takes; null, its own.</param>
public sealed record PointsTemplate(int Member, string BusiType, long Change, int Channel = 0, int? Of = null);

public sealed record SaleTemplate(string Card, int Member, int Num, string PayAmt, string SaleTime);

public sealed record UseTemplate(int Sale, int CardIndex, string Product, string Posid, int Day, int Hour);

/// <summary>
/// The requests one run sends, and sends again: template i is sent under key p{i}, saleNo s{i} or
/// useNo u{i}, so that later operations can retry it as it was or with other content.
/// </summary>
/// <param name="Start">The lifecycle's world: the instant its run begins at, on the clock its operations move; null, the test world's clock.</param>
public sealed record World(PointsTemplate[] Points, SaleTemplate[] Sales, UseTemplate[] Uses, DateTimeOffset? Start = null);

/// <summary>One write, sent through host <see cref="Host"/> (of one or two instances).</summary>
public abstract record Op(int Host);

/// <summary>Alter 0 sends the template as it is; 1 and 2 send other content under its key.</summary>
public sealed record SendPoints(int Host, int Template, int Alter) : Op(Host);

public sealed record Adjust(int Host, int Member, string BusiType, long Change) : Op(Host);

public sealed record Sell(int Host, int Template, int Alter) : Op(Host);

public sealed record Use(int Host, int Template, int Alter) : Op(Host);

public sealed record Cancel(int Host, int Template) : Op(Host);

/// <summary>Amount 0 leaves refundAmt out, 1 refunds part, 2 more than was paid.</summary>
public sealed record Refund(int Host, int Template, int Amount) : Op(Host);

/// <summary>Moves the clock of the lifecycle's world forward.</summary>
public sealed record Advance(int Host, int Hours) : Op(Host);

/// <summary>One run of the settling job on a host: activations, expiries and level reviews due now.</summary>
public sealed record Settle(int Host) : Op(Host);

/// <summary>Level/Set of one member by the hkl-test channel.</summary>
public sealed record SetLevel(int Host, int Member, int Level) : Op(Host);

public sealed record PointsRequest(string Key, int Member, string BusiType, string Bill, long Change, int Channel = 0)
{
    public string Hash => $"{Member}|{BusiType}|{Bill}|{Change}";
}

public sealed record SaleRequest(string SaleNo, int Template, string Card, int Member, int Num, string PayAmt, string SaleTime)
{
    public string Hash => $"{Card}|{Member}|{Num}|{PayAmt}|{SaleTime}";
}

/// <summary>The card is named by the sale that issued it and its place in that sale's answer.</summary>
public sealed record UseRequest(string UseNo, int Sale, int CardIndex, string Product, string Posid, string UseTime);

/// <summary>The effective request of an operation: the same for the model and the service.</summary>
public static class Requests
{
    public static PointsRequest Points(World w, SendPoints op)
    {
        var t = w.Points[op.Template];
        // A reversal sends the earning's member, channel, type and bill, when that template earns.
        var (bill, earning) = t.Of is { } of && w.Points[of] is { BusiType: not ("E" or "Z") } e ? (of, e) : (op.Template, t);
        var (member, type, channel) = (earning.Member, earning.BusiType, earning.Channel);
        return op.Alter switch
        {
            1 => new($"p{op.Template}", member, type, $"B{bill}", t.Change + 1, channel),
            2 => new($"p{op.Template}", (member + 1) % ModelCatalog.Members, type, $"B{bill}", t.Change, channel),
            _ => new($"p{op.Template}", member, type, $"B{bill}", t.Change, channel),
        };
    }

    public static SaleRequest Sale(World w, Sell op)
    {
        var t = w.Sales[op.Template];
        return new($"s{op.Template}", op.Template, t.Card, t.Member, op.Alter == 1 ? t.Num % 2 + 1 : t.Num,
            op.Alter == 2 ? "0.01" : t.PayAmt, t.SaleTime);
    }

    public static UseRequest Use(World w, Use op)
    {
        var t = w.Uses[op.Template];
        var day = DateTime.ParseExact(w.Sales[t.Sale].SaleTime[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(t.Day);
        var hour = op.Alter == 2 ? (t.Hour + 1) % 24 : t.Hour;
        return new($"u{op.Template}", t.Sale, t.CardIndex, t.Product, op.Alter == 1 ? "POS-9" : t.Posid, $"{day:yyyy-MM-dd} {hour:00}:15:00");
    }

    public static decimal? RefundAmt(Refund op) => op.Amount switch { 1 => 1.00m, 2 => 9999.00m, _ => null };

    /// <summary>The operation as a reader of a counterexample needs it: what was sent, under which key.</summary>
    public static string Describe(World w, Op op)
    {
        var again = op switch { SendPoints { Alter: > 0 } or Sell { Alter: > 0 } or Use { Alter: > 0 } => " (other content)", _ => "" };
        var text = op switch
        {
            SendPoints p when Points(w, p) is var r => $"points {r.Key}{again}: m{r.Member} {r.BusiType} {r.Change} {r.Bill} c{r.Channel}",
            Advance a => $"advance {a.Hours} h",
            Settle => "settle",
            SetLevel l => $"level/set m{l.Member} L{l.Level}",
            Adjust a => $"adjust m{a.Member} {a.BusiType} {a.Change}",
            Sell s when Sale(w, s) is var r => $"sell {r.SaleNo}{again}: {r.Card} m{r.Member} x{r.Num} {r.PayAmt} at {r.SaleTime}",
            Use u when Use(w, u) is var r => $"use {r.UseNo}{again}: s{r.Sale}.{r.CardIndex}/{r.Product} {r.Posid} at {r.UseTime}",
            Cancel c => $"cancel u{c.Template}",
            Refund f => $"refund s{f.Template} {RefundAmt(f)?.ToString("0.00", CultureInfo.InvariantCulture) ?? "(all)"}",
            _ => op.ToString(),
        };
        return $"{text} @{op.Host}";
    }
}

public static class WorldGen
{
    private static readonly Gen<int> Member = Gen.Frequency((12, Gen.Int[0, ModelCatalog.Members - 1]), (1, Gen.Const(ModelCatalog.Members)));

    // A useNo counts once: quotas fill only when many of them crowd few cards and days.
    public const int UseTemplates = 12;

    // Small changes against small balances: a refusal (2201) is as common as a success.
    private static readonly Gen<PointsTemplate> PointsTemplate = Gen.Select(Member,
        Gen.Frequency((3, Gen.Const("P")), (1, Gen.OneOf("S", "R", "C")), (4, Gen.Const("E")), (1, Gen.Const("Z"))), Gen.Int[0, 4],
        (member, type, n) => new PointsTemplate(member, type, type switch
        {
            "E" => new long[] { -10, -30, -80, -20, -50 }[n],
            "Z" => n == 4 ? -20 : 0,
            _ => new long[] { 20, 60, 100, -15, -40 }[n],
        }));

    private static Gen<SaleTemplate> SaleTemplate(Gen<string> card, Gen<int> member) => Gen.Select(card, member,
        Gen.Int[1, 2], Gen.OneOf("11.22", "30.00"), Gen.OneOf("2026-01-05 10:00:00", "2026-01-07 23:30:00"),
        (card, member, num, pay, time) => new SaleTemplate(card, member, num, pay, time));

    private static readonly Gen<string> OnSale = Gen.OneOf(ModelCatalog.Cards[0].Id, ModelCatalog.Cards[1].Id);

    // Most uses go to the first sale's cards, which can be sold; the other sales may fail.
    private static readonly Gen<SaleTemplate[]> SaleTemplates = Gen.Select(SaleTemplate(OnSale, Gen.Int[0, ModelCatalog.Members - 1]),
        SaleTemplate(Gen.Frequency((9, OnSale), (1, Gen.Const(ModelCatalog.Cards[2].Id))), Member).Array[3], (first, rest) => (SaleTemplate[])[first, .. rest]);

    private static Gen<UseTemplate> UseTemplate(SaleTemplate[] sales) =>
        Gen.Frequency((4, Gen.Const(0)), (3, Gen.Int[1, sales.Length - 1])).SelectMany(s =>
        {
            var card = ModelCatalog.Card(sales[s].Card);
            var products = card.Products.Select(p => p.Id).ToArray();
            // Most uses crowd the first days (quotas fill); the rest fall anywhere, a day before and after validity included.
            return Gen.Select(Gen.Frequency((6, Gen.Const(0)), (1, Gen.Const(1))),
                Gen.Frequency((9, Gen.OneOf(products)), (1, Gen.Const("P-NONE"))), Gen.OneOf("POS-1", "POS-2"),
                Gen.Frequency((2, Gen.Int[0, 1]), (3, Gen.Int[-1, card.ValidDays])), Gen.Int[0, 23],
                (index, product, posid, day, hour) => new UseTemplate(s, index, product, posid, day, hour));
        });

    public static readonly Gen<World> World =
        Gen.Select(PointsTemplate.Array[6], SaleTemplates)
            .SelectMany((points, sales) => UseTemplate(sales).Array[UseTemplates].Select(uses => new World(points, sales, uses)));

    private static readonly Gen<int> Alter = Gen.Frequency((8, Gen.Const(0)), (1, Gen.Const(1)), (1, Gen.Const(2)));

    public static Gen<Op>[] Ops(int hosts)
    {
        var host = Gen.Int[0, hosts - 1];
        return
        [
            Gen.Select(host, Gen.Int[0, 5], Alter, (h, t, a) => (Op)new SendPoints(h, t, a)),
            Gen.Select(host, Gen.Int[0, 5], Alter, (h, t, a) => (Op)new SendPoints(h, t, a)),
            Gen.Select(host, Member, Gen.OneOf("C", "E", "S", "Z"), Gen.OneOf(10L, 45L, -25L),
                (h, m, type, change) => (Op)new Adjust(h, m, type, type switch { "E" => -Math.Abs(change), "Z" => 0, _ => change })),
            // Uses need a card sold first, mostly the first sale's.
            Gen.Select(host, Gen.Frequency((1, Gen.Const(0)), (1, Gen.Int[1, 3])), Alter, (h, t, a) => (Op)new Sell(h, t, a)),
            Gen.Select(host, Gen.Frequency((1, Gen.Const(0)), (1, Gen.Int[1, 3])), Alter, (h, t, a) => (Op)new Sell(h, t, a)),
            Gen.Select(host, Gen.Int[0, UseTemplates - 1], Alter, (h, t, a) => (Op)new Use(h, t, a)),
            Gen.Select(host, Gen.Int[0, UseTemplates - 1], Alter, (h, t, a) => (Op)new Use(h, t, a)),
            Gen.Select(host, Gen.Int[0, UseTemplates - 1], (h, t) => (Op)new Cancel(h, t)),
            Gen.Select(host, Gen.Int[0, 3], Gen.Frequency((3, Gen.Const(0)), (1, Gen.Const(1)), (1, Gen.Const(2))), (h, t, a) => (Op)new Refund(h, t, a)),
        ];
    }
}
