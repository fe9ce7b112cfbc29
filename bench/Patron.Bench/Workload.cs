using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Patron.Channels;
using Patron.Compat;

namespace Patron.Bench;

/// <summary>
/// The benchmark's data and requests: a catalog of N members, one channel and one card whose
/// quotas no run can exhaust (so that every answer must be a success), and a request factory per
/// case in which every key (Idempotency-Key, saleNo, useNo) is new.
/// </summary>
public sealed class Workload(int members)
{
    public const string Channel = "bench";
    public const string ApiKey = "pk_bench_0123456789abcdef";
    public const string DesKey = "b3nch-k3y";
    public const string Card = "BENCHCARD0001";
    public const string Product = "P-BENCH";
    public const string TimeZone = "Asia/Shanghai";
    public const long HotMember = 1;

    /// <summary>A viewer's personal API token, for the native API's reads.</summary>
    public const string OperatorToken = "pat_bench_viewer_0123456789abcdef";

    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };
    private static readonly TimeZoneInfo Zone = TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    // Unique within a run; the nonce keeps keys apart should two runs ever share a database.
    private readonly string _nonce = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..6];
    private long _sequence;

    public int Members => members;

    /// <summary>The member cards sold during set-up, for the card-use case.</summary>
    public string[] MemberCards { get; set; } = [];

    /// <summary>The codes of the members who bought them, for the card-query case.</summary>
    public string[] Buyers { get; set; } = [];

    public static string MemberCode(long id) => $"BM{id:D8}";

    public string WriteCatalog(string path, bool withMembers = true)
    {
        var catalog = new JsonObject
        {
            ["timeZone"] = TimeZone,
            ["levelBasis"] = "lifetime",
            ["levels"] = new JsonArray(Level(1, "普通会员", 0), Level(32, "银卡会员", 500), Level(64, "金卡会员", 1000)),
            ["channels"] = new JsonArray(new JsonObject
            {
                ["name"] = Channel, ["desKey"] = DesKey, ["apiKey"] = ApiKey, ["cipher"] = OpenApiCipher.Des,
                ["scopes"] = new JsonArray([.. Scopes.All.Select(s => JsonValue.Create(s))]),
            }),
            ["members"] = new JsonArray([.. Enumerable.Range(1, withMembers ? members : 0).Select(i => new JsonObject
            {
                ["id"] = i, ["code"] = MemberCode(i), ["name"] = $"会员{i}", ["phone"] = $"139{i:D8}",
            })]),
            ["cards"] = new JsonArray(new JsonObject
            {
                ["id"] = Card, ["name"] = "压测卡", ["price"] = 10.00m, ["validDays"] = 36_600, ["onSale"] = true,
                // Quotas no run can reach: a card use that fails is a failure of the service, never of the data.
                ["products"] = new JsonArray(new JsonObject
                {
                    ["id"] = Product, ["name"] = "压测面", ["totalUsedNum"] = 1_000_000_000, ["cycleDays"] = 1, ["cycleNum"] = 1_000_000_000,
                }),
            }),
            ["admins"] = new JsonArray(new JsonObject
            {
                ["user"] = "bench", ["password"] = "bench-viewer-password", ["role"] = "viewer", ["apiToken"] = OperatorToken,
            }),
        };
        File.WriteAllText(path, catalog.ToJsonString());
        return path;

        static JsonObject Level(int id, string name, int threshold) => new() { ["id"] = id, ["name"] = name, ["threshold"] = threshold };
    }

    private long Next() => Interlocked.Increment(ref _sequence);

    private static long RandomMember(int members) => Random.Shared.Next(1, members + 1);

    public HttpRequestMessage Health() => new(HttpMethod.Get, "/health");

    public HttpRequestMessage PointAddRandom() => PointAdd(RandomMember(members));

    public HttpRequestMessage PointAddHot() => PointAdd(HotMember);

    private HttpRequestMessage PointAdd(long member)
    {
        var n = Next();
        var body = $$"""{"MemberId":{{member}},"BusiType":"P","BusiBillNum":"B{{n}}","ChangeValue":10}""";
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/Setting/KH_GRHY/Point/Add") { Content = Body(body) };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + ApiKey);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", $"bench-{_nonce}-{n}");
        return request;
    }

    public HttpRequestMessage CardUse()
    {
        var n = Next();
        var card = MemberCards[Random.Shared.Next(MemberCards.Length)];
        return OpenApi("useMncard", $$"""{"memberCardId":"{{card}}","cardProductId":"{{Product}}","posid":"POS-{{n % 100}}","useNo":"U{{_nonce}}{{n}}"}""", n);
    }

    /// <summary>queryMncardByMember for a random member among those who bought the card-use case's cards.</summary>
    public HttpRequestMessage CardQuery()
    {
        var n = Next();
        return OpenApi("queryMncardByMember", $$"""{"memberId":"{{Buyers[Random.Shared.Next(Buyers.Length)]}}"}""", n);
    }

    /// <summary>GET /api/v1/members/{id} of a random member, as an operator's script would read it.</summary>
    public HttpRequestMessage MemberGet()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/members/{RandomMember(members)}");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + OperatorToken);
        return request;
    }

    public HttpRequestMessage CardSale() => Sale(Next(), MemberCode(RandomMember(members)), 1);

    public HttpRequestMessage Sale(long n, string memberCode, int num)
    {
        // A minute ago in the business time zone: the card is effective from 00:00 of that day.
        var saleTime = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow.AddMinutes(-1), Zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        return OpenApi("sendMncardForSale",
            $$"""{"cardInfoId":"{{Card}}","saleTime":"{{saleTime}}","saleUser":"bench","saleOrgCode":"001","payAmt":"10.00","saleNo":"S{{_nonce}}{{n}}","memberId":"{{memberCode}}","num":"{{num}}"}""", n);
    }

    public long NextSequence() => Next();

    private HttpRequestMessage OpenApi(string method, string param, long n)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var hex = OpenApiCipher.Encrypt(OpenApiCipher.Des, DesKey, param, Channel, timestamp);
        var request = new HttpRequestMessage(HttpMethod.Post, "/openapi/v1/" + method)
        {
            Content = Body($$"""{"channel":"{{Channel}}","timestamp":"{{timestamp}}","param":"{{hex}}"}"""),
        };
        // Harmless to the open API (its business keys are saleNo and useNo), and what a careful partner sends.
        request.Headers.TryAddWithoutValidation("Idempotency-Key", $"bench-{_nonce}-{n}");
        return request;
    }

    private static ByteArrayContent Body(string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = Json;
        return content;
    }

    /// <summary>
    /// Sells the cards that the card-use case uses, through the open API (set-up, not measured): sale i
    /// goes to <paramref name="member"/>(i), by default a member spread over the first ones by a prime step.
    /// </summary>
    public async Task SellCardsAsync(HttpClient http, int cards, int perSale, Func<int, long>? member = null, int parallel = 8)
    {
        var sales = (cards + perSale - 1) / perSale;
        var sold = new List<string>[sales];
        var buyers = new string[sales];
        member ??= i => 1 + i * 7919L % members;
        await Parallel.ForAsync(0, sales, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, ct) =>
        {
            var num = Math.Min(perSale, cards - i * perSale);
            buyers[i] = MemberCode(member(i));
            using var request = Sale(Next(), buyers[i], num);
            using var response = await http.SendAsync(request, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            if (Checks.OpenApiEnvelope(response.StatusCode, body) is { } error)
                throw new InvalidOperationException($"selling the benchmark's cards failed: {error}");
            var codes = JsonNode.Parse(body)!["data"]!["list"]![0]!["cpnCodes"]!.AsArray();
            sold[i] = [.. codes.Select(c => c!.GetValue<string>())];
        });
        MemberCards = [.. sold.SelectMany(s => s)];
        Buyers = [.. buyers.Distinct()];
        if (MemberCards.Length != cards)
            throw new InvalidOperationException($"sold {MemberCards.Length} cards, expected {cards}");
    }
}
