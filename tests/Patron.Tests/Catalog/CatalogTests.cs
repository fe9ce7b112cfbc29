using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Patron.Catalog;
using Patron.Console;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Catalog;

public abstract class CatalogTests(Backend backend) : PatronTest(backend)
{
    private Task<string> SnapshotAsync(PatronApp app) => app.QueryAsync(async db => System.Text.Json.JsonSerializer.Serialize(new
    {
        Settings = await db.Settings.OrderBy(x => x.Key).ToListAsync(),
        Levels = await db.Levels.OrderBy(x => x.Id).ToListAsync(),
        Channels = await db.Channels.OrderBy(x => x.Id).ToListAsync(),
        Members = await db.Members.OrderBy(x => x.Id).ToListAsync(),
        Cards = await db.Cards.OrderBy(x => x.Id).ToListAsync(),
        Products = await db.CardProducts.OrderBy(x => x.CardId).ThenBy(x => x.Id).ToListAsync(),
        Operators = await db.Operators.OrderBy(x => x.UserName).ToListAsync(),
    }));

    [Fact]
    public async Task ApplyingTheSameCatalogAgainChangesNothing()
    {
        await Partner.AddPointsAsync(1, "P", 1500);
        var before = await SnapshotAsync(App);

        var again = StartApp();

        Assert.Equal(before, await SnapshotAsync(again));
        Assert.Contains("\"Balance\":1500", before);
    }

    [Fact]
    public async Task PasswordsAndApiKeysAreNeverStoredInClear()
    {
        var snapshot = await SnapshotAsync(App);
        var admin = await App.QueryAsync(db => db.Operators.SingleAsync(o => o.UserName == TestCatalog.AdminUser));

        Assert.DoesNotContain(TestCatalog.AdminPassword, snapshot);
        Assert.DoesNotContain(TestCatalog.ApiKey, snapshot);
        Assert.NotEqual(PasswordVerificationResult.Failed,
            new PasswordHasher<Operator>().VerifyHashedPassword(admin, admin.PasswordHash, TestCatalog.AdminPassword));
    }

    [Fact]
    public async Task ACatalogMemberStartsOnTheLevelForZeroPoints()
    {
        var level = await App.QueryAsync(db => db.Members.Where(m => m.Id == 1).Select(m => m.LevelId).SingleAsync());

        Assert.Equal(1, level);
    }
}

public sealed class CatalogTestsOnSqlite() : CatalogTests(Backend.Sqlite);

public sealed class CatalogTestsOnPostgres() : CatalogTests(Backend.Postgres);

public sealed class CatalogValidationTests
{
    private static string Invalid(Action<JsonObject> spoil)
    {
        var catalog = TestCatalog.Build();
        spoil(catalog);
        var path = TestCatalog.Write(catalog);
        return Assert.Throws<CatalogException>(() => CatalogFile.Load(path)).Message;
    }

    [Fact]
    public void TheSampleCatalogIsValid()
    {
        var sample = Path.Combine(RepoRoot(), "samples", "catalog.json");

        var catalog = CatalogFile.Load(sample);

        Assert.Equal(2, catalog.Channels!.Count);
        Assert.Equal(2, catalog.Cards!.Count);
    }

    [Theory]
    [InlineData("levels[1].threshold")]
    [InlineData("channels[0].desKey")]
    [InlineData("members[2].code")]
    [InlineData("cards[0].products[0].cycleNum")]
    [InlineData("admins[0].password")]
    public void AMissingFieldIsNamedWithItsEntry(string where)
    {
        var message = Invalid(c =>
        {
            var parts = where.Replace("]", "").Split('.', '[');
            JsonNode node = c;
            for (var i = 0; i < parts.Length - 1; i++)
                node = int.TryParse(parts[i], out var index) ? node[index]! : node[parts[i]]!;
            node.AsObject().Remove(parts[^1]);
        });

        Assert.Contains(where, message);
    }

    [Fact]
    public void AWrongTypeIsNamedByItsPath()
    {
        var message = Invalid(c => c["levels"]![1]!["threshold"] = "lots");

        Assert.Contains("levels[1].threshold", message);
    }

    [Fact]
    public void AMisspeltFieldIsAnErrorNotIgnored()
    {
        var message = Invalid(c => c["levels"]![0]!["treshold"] = 5);

        Assert.Contains("treshold", message);
    }

    [Theory]
    [InlineData("timeZone", "Mars/Olympus")]
    [InlineData("levelBasis", "vibes")]
    public void AnUnknownSettingIsRefused(string field, string value)
    {
        var message = Invalid(c => c[field] = value);

        Assert.Contains(field, message);
    }

    [Fact]
    public void LevelIdsMustRiseWithThresholds()
    {
        var message = Invalid(c => c["levels"]![1]!["id"] = 0);

        Assert.Contains("levels[1]", message);
    }

    [Fact]
    public void AnUnknownScopeIsRefused()
    {
        var message = Invalid(c => c["channels"]![0]!["scopes"]!.AsArray().Add("points.steal"));

        Assert.Contains("channels[0].scopes", message);
    }

    [Theory]
    [InlineData("maxUseAgeDays", "32", "channels[0].maxUseAgeDays: 1 to 31")]
    [InlineData("maxSaleAgeDays", "0", "channels[0].maxSaleAgeDays: 1 to 31")]
    [InlineData("rateLimit", """{"burst":5}""", "channels[0].rateLimit.perSecond")]
    [InlineData("rateLimit", """{"perSecond":5,"burst":0}""", "channels[0].rateLimit.burst: 1 to 100000")]
    public void AChannelSettingOutsideItsLimitsIsRefused(string field, string json, string expected)
    {
        var message = Invalid(c => c["channels"]![0]![field] = JsonNode.Parse(json));

        Assert.Contains(expected, message);
    }

    [Fact]
    public void SecretsNeverAppearInTheMessage()
    {
        var message = Invalid(c => c["channels"]![0]!["desKey"] = "short");

        Assert.DoesNotContain("short", message.Replace("channels[0].desKey", ""));
        Assert.DoesNotContain(TestCatalog.ApiKey, message);
    }

    [Fact]
    public async Task AnInvalidCatalogStopsTheServiceWithOneReadableLine()
    {
        var catalog = TestCatalog.Build();
        catalog["levels"]![1]!.AsObject().Remove("threshold");
        var database = TestScratch.NewPath("db-", ".db");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(Program).Assembly.Location, "--catalog", TestCatalog.Write(catalog), "--connection", $"Data Source={database}", "--urls", "http://127.0.0.1:0" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(1, process.ExitCode);
        Assert.Contains("levels[1].threshold", await stderr);
        Assert.DoesNotContain("   at ", await stderr + await stdout);
    }

    private static string RepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Patron.slnx")))
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("repository root not found");
        return dir;
    }
}
