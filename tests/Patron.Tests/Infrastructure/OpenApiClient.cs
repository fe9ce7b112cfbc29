using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Patron.Compat;

namespace Patron.Tests.Infrastructure;

public sealed record OpenApiAnswer(HttpStatusCode Status, int Code, string Msg, JsonNode? Data);

/// <summary>A partner of the open API: builds the encrypted envelope as the seed describes it.</summary>
public sealed class OpenApiClient(HttpClient http, TimeProvider? clock = null)
{
    public string Channel { get; init; } = "hkl-test";
    public string Key { get; init; } = TestCatalog.DesKey;
    public string Cipher { get; init; } = OpenApiCipher.Des;
    public string Prefix { get; init; } = "";

    /// <summary>The envelope's timestamp: by the clock of the host called (<see cref="TestWorld"/> unless told).</summary>
    public long Now() => (clock ?? TestWorld.Clock).GetUtcNow().ToUnixTimeMilliseconds();

    public Task<OpenApiAnswer> CallAsync(string method, object param) =>
        CallAsync(method, JsonSerializer.Serialize(param));

    public Task<OpenApiAnswer> CallAsync(string method, string plaintext, long? timestamp = null)
    {
        var ts = (timestamp ?? Now()).ToString();
        return SendAsync(method, new { channel = Channel, timestamp = ts, param = OpenApiCipher.Encrypt(Cipher, Key, plaintext, Channel, ts) });
    }

    public async Task<OpenApiAnswer> SendAsync(string method, object envelope)
    {
        using var response = await http.PostAsJsonAsync($"{Prefix}/openapi/v1/{method}", envelope);
        return await ReadAsync(response);
    }

    public async Task<OpenApiAnswer> SendRawAsync(string method, string body)
    {
        using var response = await http.PostAsync($"{Prefix}/openapi/v1/{method}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        return await ReadAsync(response);
    }

    private static async Task<OpenApiAnswer> ReadAsync(HttpResponseMessage response)
    {
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return new OpenApiAnswer(response.StatusCode, json["code"]!.GetValue<int>(), json["msg"]!.GetValue<string>(), json["data"]);
    }

    public Task<OpenApiAnswer> SellAsync(string saleNo, string saleTime = "2026-01-05 10:00:00", int num = 1, string memberId = "M0001",
        string card = TestCatalog.Card, string payAmt = "11.22") =>
        CallAsync("sendMncardForSale", new { cardInfoId = card, saleTime, saleUser = "1345", num = num.ToString(), saleOrgCode = "526", payAmt, saleNo, memberId });

    public Task<OpenApiAnswer> UseAsync(string memberCardId, string useNo, string? useTime, string product = "P-NOODLE", string posid = "POS-1") =>
        useTime is null
            ? CallAsync("useMncard", new { memberCardId, cardProductId = product, posid, useNo })
            : CallAsync("useMncard", new { memberCardId, cardProductId = product, posid, useNo, useTime });

    public Task<OpenApiAnswer> CancelAsync(string useNo) => CallAsync("cancelUseMncard", new { useNo });

    public Task<OpenApiAnswer> RegisterMemberAsync(string memberId, string? name, string? phone) =>
        CallAsync("registerMember", new { memberId, name, phone });

    public Task<OpenApiAnswer> QueryMemberAsync(string memberId) => CallAsync("queryMember", new { memberId });
}
