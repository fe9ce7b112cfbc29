using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Patron.Cards;
using Patron.Channels;
using Patron.Levels;
using Patron.Members;

namespace Patron.Catalog;

/// <summary>The catalog file of SPEC §6. Every field is nullable so that validation can name what is missing.</summary>
public sealed record CatalogFile(
    string? TimeZone, string? LevelBasis, List<CatalogLevel>? Levels, List<CatalogChannel>? Channels,
    List<CatalogMember>? Members, List<CatalogCard>? Cards, List<CatalogAdmin>? Admins,
    CatalogPoints? Points = null, CatalogLevelReview? LevelReview = null, List<CatalogWebhook>? Webhooks = null)
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        // A misspelt field is an error, not a silently ignored setting.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static CatalogFile Load(string path)
    {
        if (!File.Exists(path))
            throw new CatalogException($"catalog {path}: no such file");
        try
        {
            var catalog = JsonSerializer.Deserialize<CatalogFile>(File.ReadAllBytes(path), JsonOptions)
                ?? throw new CatalogException($"catalog {path}: empty");
            catalog.Validate(path);
            return catalog;
        }
        catch (JsonException e)
        {
            // JsonException names the JSON path, e.g. $.levels[1].threshold; its message never holds a secret.
            var where = e.Path is { Length: > 0 } p ? p.TrimStart('$', '.') : $"line {e.LineNumber + 1}";
            throw new CatalogException($"catalog {path}: {where}: {FirstSentence(e.Message)}");
        }
    }

    public void Validate(string path)
    {
        var errors = new List<string>();
        void Check(bool ok, string where, string problem)
        {
            if (!ok) errors.Add($"{where}: {problem}");
        }

        if (TimeZone is not null)
            Check(TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _), "timeZone", $"unknown time zone '{TimeZone}'");
        Check(LevelTable.ParseBasis(LevelBasis) is not null, "levelBasis", "must be \"lifetime\" or \"balance\"");
        foreach (var (where, problem) in CatalogPointsRules.Problems(Points, LevelReview))
            Check(false, where, problem);
        foreach (var (where, problem) in CatalogWebhooks.Problems(Webhooks))
            Check(false, where, problem);

        var levels = Levels ?? [];
        for (var i = 0; i < levels.Count; i++)
        {
            var l = levels[i];
            var at = $"levels[{i}]";
            Check(l.Id is >= 0 and <= 255, $"{at}.id", "required, 0 to 255");
            Check(!string.IsNullOrWhiteSpace(l.Name) && l.Name.Length <= 64, $"{at}.name", "required, at most 64 characters");
            Check(l.Threshold is >= 0, $"{at}.threshold", "required, 0 or more");
            Check(levels.Take(i).All(o => o.Id != l.Id), $"{at}.id", $"level {l.Id} is listed twice");
        }
        // Promotion compares level ids (SPEC: MemberLevelIdAfter ≥ MemberLevelIdBefore), so ids must rise with thresholds.
        var byThreshold = levels.Where(l => l.Threshold is not null && l.Id is not null).OrderBy(l => l.Threshold).ToList();
        for (var i = 1; i < byThreshold.Count; i++)
            Check(byThreshold[i].Id > byThreshold[i - 1].Id && byThreshold[i].Threshold > byThreshold[i - 1].Threshold,
                $"levels[{levels.IndexOf(byThreshold[i])}]", "ids and thresholds must both rise together");

        var channels = Channels ?? [];
        for (var i = 0; i < channels.Count; i++)
        {
            var c = channels[i];
            var at = $"channels[{i}]";
            Check(!string.IsNullOrWhiteSpace(c.Name) && c.Name.Length <= 64, $"{at}.name", "required, at most 64 characters");
            Check(c.ApiKey is { Length: >= 8 and <= 256 }, $"{at}.apiKey", "required, 8 to 256 characters");
            Check(c.DesKey is not null && Encoding.UTF8.GetByteCount(c.DesKey) >= 8 && c.DesKey.Length <= 128, $"{at}.desKey", "required, 8 bytes to 128 characters");
            Check(c.Cipher is null or "des-ecb" or "aes-gcm", $"{at}.cipher", "must be \"des-ecb\" or \"aes-gcm\"");
            foreach (var scope in c.Scopes ?? [])
                Check(Scopes.All.Contains(scope), $"{at}.scopes", $"unknown scope '{scope}'; known: {string.Join(", ", Scopes.All)}");
            foreach (var (field, problem) in ChannelSettings.Check(c.MaxUseAgeDays, c.MaxSaleAgeDays, c.RateLimit?.PerSecond, c.RateLimit?.Burst, c.PendingDays))
                Check(false, $"{at}.{field}", problem);
            foreach (var (where, problem) in CatalogPointsRules.ExpiryProblems(c.Expiry, $"{at}.expiry"))
                Check(false, where, problem);
            Check(c.RateLimit is null || c.RateLimit.PerSecond is not null || c.RateLimit.Burst is not null, $"{at}.rateLimit.perSecond", $"required, 1 to {ChannelSettings.MaxRate}");
            Check(channels.Take(i).All(o => o.Name != c.Name), $"{at}.name", $"channel '{c.Name}' is listed twice");
            Check(channels.Take(i).All(o => o.ApiKey != c.ApiKey), $"{at}.apiKey", "the same key as another channel");
        }

        var members = Members ?? [];
        var (memberIds, memberCodes) = (new HashSet<long?>(), new HashSet<string?>(StringComparer.Ordinal));
        for (var i = 0; i < members.Count; i++)
        {
            var m = members[i];
            var at = $"members[{i}]";
            Check(m.Id is >= 1, $"{at}.id", "required, 1 or more");
            var codeProblem = m.Code is null ? $"required, 1 to {MemberRules.MaxCodeLength} characters" : MemberRules.CodeProblem(m.Code);
            Check(codeProblem is null, $"{at}.code", codeProblem!);
            Check(m.Name is null || m.Name.Length <= 100, $"{at}.name", "at most 100 characters");
            Check(m.Phone is null || m.Phone.Length <= 32, $"{at}.phone", "at most 32 characters");
            Check(m.Level is null || levels.Any(l => l.Id == m.Level), $"{at}.level", $"there is no level {m.Level}");
            Check(memberIds.Add(m.Id), $"{at}.id", $"member {m.Id} is listed twice");
            Check(memberCodes.Add(m.Code), $"{at}.code", $"code '{m.Code}' is listed twice");
        }

        var cards = Cards ?? [];
        for (var i = 0; i < cards.Count; i++)
        {
            var c = cards[i];
            var at = $"cards[{i}]";
            Check(!string.IsNullOrWhiteSpace(c.Id) && c.Id.Length <= 32, $"{at}.id", "required, at most 32 characters");
            Check(!string.IsNullOrWhiteSpace(c.Name) && c.Name.Length <= 100, $"{at}.name", "required, at most 100 characters");
            Check(c.Price is >= 0 && decimal.Round(c.Price.Value, 2) == c.Price, $"{at}.price", "required, 0 or more, at most 2 decimals");
            Check(c.ValidDays is >= 1 and <= 36600, $"{at}.validDays", "required, 1 to 36600");
            Check(c.Products is { Count: > 0 }, $"{at}.products", "at least one product");
            Check(c.Refund is null || RefundPolicies.All.Contains(c.Refund), $"{at}.refund", $"one of {string.Join(", ", RefundPolicies.All)}");
            Check(cards.Take(i).All(o => o.Id != c.Id), $"{at}.id", $"card '{c.Id}' is listed twice");
            var products = c.Products ?? [];
            for (var j = 0; j < products.Count; j++)
            {
                var p = products[j];
                var pat = $"{at}.products[{j}]";
                Check(!string.IsNullOrWhiteSpace(p.Id) && p.Id.Length <= 32, $"{pat}.id", "required, at most 32 characters");
                Check(!string.IsNullOrWhiteSpace(p.Name) && p.Name.Length <= 100, $"{pat}.name", "required, at most 100 characters");
                Check(p.TotalUsedNum is >= 1, $"{pat}.totalUsedNum", "required, 1 or more");
                Check(p.CycleDays is >= 1, $"{pat}.cycleDays", "required, 1 or more");
                Check(p.CycleNum is >= 1, $"{pat}.cycleNum", "required, 1 or more");
                Check(products.Take(j).All(o => o.Id != p.Id), $"{pat}.id", $"product '{p.Id}' is listed twice");
            }
        }

        var admins = Admins ?? [];
        for (var i = 0; i < admins.Count; i++)
        {
            var a = admins[i];
            var at = $"admins[{i}]";
            Check(!string.IsNullOrWhiteSpace(a.User) && a.User.Length <= 64, $"{at}.user", "required, at most 64 characters");
            Check(a.Password is { Length: >= 8 }, $"{at}.password", "required, at least 8 characters");
            Check(a.Role is null or "admin" or "viewer", $"{at}.role", "must be \"admin\" or \"viewer\"");
            Check(a.ApiToken is null || (a.ApiToken.StartsWith("pat_", StringComparison.Ordinal) && a.ApiToken.Length is >= 24 and <= 128),
                $"{at}.apiToken", "\"pat_\" and 20 to 124 more characters");
            Check(admins.Take(i).All(o => o.User != a.User), $"{at}.user", $"user '{a.User}' is listed twice");
        }

        if (errors.Count > 0)
            throw new CatalogException($"catalog {path}: {string.Join("; ", errors)}");
    }

    private static string FirstSentence(string message) => message.Split(". ")[0].TrimEnd('.');
}

public sealed record CatalogLevel(int? Id, string? Name, long? Threshold);

public sealed record CatalogChannel(string? Name, string? DesKey, string? ApiKey, string? Cipher, List<string>? Scopes,
    bool? BillNumIsKey = null, int? MaxUseAgeDays = null, int? MaxSaleAgeDays = null, CatalogRateLimit? RateLimit = null,
    int? PendingDays = null, [property: JsonConverter(typeof(NoneOrExpiryConverter))] CatalogExpiry? Expiry = null);

public sealed record CatalogRateLimit(int? PerSecond, int? Burst);

public sealed record CatalogMember(long? Id, string? Code, string? Name, string? Phone, int? Level);

public sealed record CatalogCard(string? Id, string? Name, decimal? Price, int? ValidDays, bool? OnSale, List<CatalogProduct>? Products,
    string? Refund = null);

public sealed record CatalogProduct(string? Id, string? Name, int? TotalUsedNum, int? CycleDays, int? CycleNum);

public sealed record CatalogAdmin(string? User, string? Password, string? Role, string? ApiToken);

public sealed class CatalogException(string message) : Exception(message);
