using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Security;

public abstract partial class SecretLogTests(Backend backend) : PatronTest(backend)
{
    private readonly LogCapture _logs = new();
    private readonly List<string> _plaintexts = [];

    // Everything at Trace, as an operator who turned logging all the way up would get it; only the
    // app's own deliberate filters (EF commands, the key ring's store) still apply.
    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));

    [GeneratedRegex("<value>([^<]+)</value>")]
    private static partial Regex KeyValue();

    private async Task<OpenApiAnswer> CallAsync(OpenApiClient client, string method, object param)
    {
        var plaintext = JsonSerializer.Serialize(param);
        _plaintexts.Add(plaintext);
        return await client.CallAsync(method, plaintext);
    }

    [Fact]
    public async Task NoKeyPasswordTokenPlaintextOrCardCodeIsEverLogged()
    {
        var console = new ConsoleSession(App);
        await console.SignInAsync(TestCatalog.AdminUser, "wrong-password-7x");
        await console.SignInAsync(TestCatalog.AdminUser, TestCatalog.AdminPassword);
        await console.Http.GetStringAsync("/console/members/1");
        var admin = OperatorClient();
        await admin.GetStringAsync("/api/v1/members/1");

        Assert.Equal(0, (await Partner.AddPointsAsync(1, "P", 100, key: "log-1")).Errcode);
        Assert.Equal(1001, (await PartnerClient(App, "pk_wrong_secret_999").AddPointsAsync(1, "P", 100)).Errcode);

        var des = new OpenApiClient(App.CreateClient());
        var sale = await CallAsync(des, "sendMncardForSale", new { cardInfoId = TestCatalog.Card, saleTime = "2026-01-05 10:00:00", payAmt = "11.22", saleNo = "LOG-S-1", memberId = "M0001", num = "2" });
        var cards = sale.Data!["cards"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()).ToList();
        var entries = sale.Data["cards"]!.AsArray().SelectMany(c => c!["memberUsedList"]!.AsArray()).Select(e => e!["id"]!.GetValue<string>()).ToList();
        var use = await CallAsync(des, "useMncard", new { memberCardId = cards[0], cardProductId = "P-NOODLE", posid = "POS-LOG", useNo = "LOG-U-1", useTime = "2026-01-05 12:00:00" });
        var query = await CallAsync(des, "queryMncardByMember", new { memberId = "M0001" });
        await CallAsync(des, "useMncard", new { cardCode = cards[1], cardProductId = "P-NONE", posid = "POS-LOG", useNo = "LOG-U-2" });
        await CallAsync(des, "cancelUseMncard", new { useNo = "LOG-U-1" });
        await CallAsync(new OpenApiClient(App.CreateClient()) { Channel = "aes-partner", Key = TestCatalog.AesKey, Cipher = OpenApiCipher.AesGcm },
            "queryMncardByMember", new { memberId = "M0001" });
        await CallAsync(new OpenApiClient(App.CreateClient()) { Key = "wrong-des-key" }, "queryMncardByMember", new { memberId = "M0001" });

        using var rotation = await admin.PostAsync("/api/v1/channels/hkl-test/rotate", null);
        var keys = (await rotation.Content.ReadFromJsonAsync<JsonNode>())!;
        var (newApiKey, newDesKey) = (keys["apiKey"]!.GetValue<string>(), keys["desKey"]!.GetValue<string>());
        Assert.Equal(0, (await PartnerClient(App, newApiKey).AddPointsAsync(1, "P", 5)).Errcode);
        var after = await CallAsync(new OpenApiClient(App.CreateClient()) { Key = newDesKey }, "refundMncardForSale", new { saleNo = "LOG-S-1" });

        Assert.Equal((0, 0, 0, 0), (sale.Code, use.Code, query.Code, after.Code));
        var keyRing = string.Join("", await App.QueryAsync(db => db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync()));
        var masterKeys = KeyValue().Matches(keyRing).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(masterKeys);
        var secrets = new List<string>
        {
            TestCatalog.ApiKey, "pk_wrong_secret_999", newApiKey, TestCatalog.DesKey, TestCatalog.AesKey, newDesKey,
            TestCatalog.AdminPassword, "wrong-password-7x", TestCatalog.AdminToken,
        };
        secrets.AddRange(_plaintexts);
        secrets.AddRange(cards);
        secrets.AddRange(entries);
        secrets.AddRange(masterKeys);

        var logs = _logs.All;
        Assert.True(_logs.Lines.Count > 100, $"only {_logs.Lines.Count} log lines were captured");
        Assert.Contains("/openapi/v1/useMncard", logs); // the capture does see the requests
        Assert.All(secrets, s => Assert.False(logs.Contains(s, StringComparison.Ordinal),
            $"the logs contain a secret: {_logs.Lines.FirstOrDefault(l => l.Contains(s, StringComparison.Ordinal))?.Replace(s, "<SECRET>")}"));
        // Any 13-character card code, not just the ones this test knows of.
        Assert.Empty(CardCode().Matches(logs).Select(m => m.Value).Where(c => c is not (TestCatalog.Card or TestCatalog.OffSaleCard)).Distinct());
    }

    [GeneratedRegex(@"\b[LU][0-9A-Z]{12}\b")]
    private static partial Regex CardCode();
}

public sealed class SecretLogTestsOnSqlite() : SecretLogTests(Backend.Sqlite);

public sealed class SecretLogTestsOnPostgres() : SecretLogTests(Backend.Postgres);
