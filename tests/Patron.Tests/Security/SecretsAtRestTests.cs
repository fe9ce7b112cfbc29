using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Security;

public abstract class SecretsAtRestTests(Backend backend) : PatronTest(backend)
{
    private const string Query = """{"memberId":"M0001"}""";

    private static OpenApiClient OpenApi(PatronApp app, string key = TestCatalog.DesKey) => new(app.CreateClient()) { Key = key };

    private Task<List<string>> StoredKeysAsync(PatronApp? app = null) =>
        (app ?? App).QueryAsync(db => db.Channels.OrderBy(c => c.Id).Select(c => c.DesKey).ToListAsync());

    private async Task<JsonNode> RotateAsync(PatronApp app, string channel = "hkl-test")
    {
        using var response = await OperatorClient(app: app).PostAsync($"/api/v1/channels/{channel}/rotate", null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonNode>())!;
    }

    [Fact]
    public async Task TheDesKeyColumnNeverHoldsAClearKey()
    {
        var stored = await StoredKeysAsync();

        Assert.Equal(4, stored.Count);
        Assert.All(stored, s => Assert.DoesNotContain(TestCatalog.DesKey, s));
        Assert.All(stored, s => Assert.DoesNotContain(TestCatalog.AesKey, s));
        Assert.All(stored, s => Assert.StartsWith("dp1:", s));
        Assert.Equal(0, (await OpenApi(App).CallAsync("queryMncardByMember", Query)).Code);
    }

    [Fact]
    public async Task ARotatedKeyIsStoredEncryptedAndTheOldOneStopsWorking()
    {
        var before = await OpenApi(App).CallAsync("queryMncardByMember", Query); // warms the cache with the old key
        var keys = await RotateAsync(App);
        var newKey = keys["desKey"]!.GetValue<string>();

        var withOld = await OpenApi(App).CallAsync("queryMncardByMember", Query);
        var withNew = await OpenApi(App, newKey).CallAsync("queryMncardByMember", Query);

        Assert.Equal((0, 1003, 0), (before.Code, withOld.Code, withNew.Code));
        Assert.All(await StoredKeysAsync(), s => Assert.DoesNotContain(newKey, s));
    }

    [Fact]
    public async Task ARestartOnTheSameDatabaseStillDecrypts()
    {
        // A channel made in the console, so that the catalog applied again at start-up does not set its key.
        using var created = await OperatorClient().PostAsJsonAsync("/api/v1/channels", new { name = "new-pos", cipher = "des-ecb", scopes = new[] { "card.query" } });
        var newKey = (await created.Content.ReadFromJsonAsync<JsonNode>())!["desKey"]!.GetValue<string>();
        var stored = await StoredKeysAsync();
        await App.DisposeAsync();

        var restarted = StartApp();

        Assert.Equal(0, (await new OpenApiClient(restarted.CreateClient()) { Channel = "new-pos", Key = newKey }.CallAsync("queryMncardByMember", Query)).Code);
        Assert.Equal(0, (await new OpenApiClient(restarted.CreateClient()) { Channel = "aes-partner", Key = TestCatalog.AesKey, Cipher = OpenApiCipher.AesGcm }
            .CallAsync("queryMncardByMember", Query)).Code);
        Assert.Equal(stored, await StoredKeysAsync(restarted)); // the catalog, applied again, did not re-encrypt
    }

    [Fact]
    public async Task ClearKeysFromAnOlderDatabaseAreEncryptedAtStartUp()
    {
        await App.QueryAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE channels SET des_key = 'k3y-8byt' WHERE name = 'hkl-test'"));
        Assert.Equal(0, (await OpenApi(App).CallAsync("queryMncardByMember", Query)).Code); // read as it is until then
        await App.DisposeAsync();

        var restarted = StartApp();

        Assert.All(await StoredKeysAsync(restarted), s => Assert.StartsWith("dp1:", s));
        Assert.Equal(0, (await OpenApi(restarted).CallAsync("queryMncardByMember", Query)).Code);
    }

    [Fact]
    public async Task TheKeyRingIsInTheDatabase() =>
        Assert.NotEqual(0, await App.QueryAsync(db => db.DataProtectionKeys.CountAsync()));
}

public sealed class SecretsAtRestTestsOnSqlite() : SecretsAtRestTests(Backend.Sqlite);

public sealed class SecretsAtRestTestsOnPostgres() : SecretsAtRestTests(Backend.Postgres)
{
    [Fact]
    public async Task TwoHostsOnOnePostgresShareTheKeyRingAndSeeEachOthersRotations()
    {
        var second = StartApp();
        Assert.Equal(0, (await new OpenApiClient(second.CreateClient()).CallAsync("queryMncardByMember", """{"memberId":"M0001"}""")).Code);
        Assert.Equal(0, (await new OpenApiClient(App.CreateClient()).CallAsync("queryMncardByMember", """{"memberId":"M0001"}""")).Code);

        using var response = await OperatorClient(app: second).PostAsync("/api/v1/channels/hkl-test/rotate", null);
        var newKey = (await response.Content.ReadFromJsonAsync<JsonNode>())!["desKey"]!.GetValue<string>();

        // The first host sees the new stored value once its channel snapshot (1 s) renews, and decrypts with the new key.
        await Task.Delay(1_100);
        var first = new OpenApiClient(App.CreateClient()) { Key = newKey };
        Assert.Equal(0, (await first.CallAsync("queryMncardByMember", """{"memberId":"M0001"}""")).Code);
        Assert.Equal(1003, (await new OpenApiClient(App.CreateClient()).CallAsync("queryMncardByMember", """{"memberId":"M0001"}""")).Code);
        Assert.Equal(1, await App.QueryAsync(db => db.DataProtectionKeys.CountAsync()));
    }
}
