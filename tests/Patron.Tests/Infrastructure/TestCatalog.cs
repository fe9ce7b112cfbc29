using System.Text.Json;
using System.Text.Json.Nodes;

namespace Patron.Tests.Infrastructure;

/// <summary>The test chain: the SPEC's example, with more members and a second channel.</summary>
public static class TestCatalog
{
    public const string ApiKey = "pk_test_123";
    public const string OtherApiKey = "pk_other_456";
    public const string NoPointsApiKey = "pk_cards_only_789";
    public const string AdminUser = "admin";
    public const string AdminPassword = "change-me";
    public const string AdminToken = "pat_test_admin_token_0123456789";
    public const string ViewerUser = "viewer";
    public const string ViewerPassword = "viewer-pass";
    public const string ViewerToken = "pat_test_viewer_token_0123456789";
    public const int MemberCount = 40;
    public const string DesKey = "k3y-8byt";
    public const string AesKey = "an-aes-key-of-any-length";
    public const string Card = "L68F353AD0019";
    public const string OffSaleCard = "L68F353AD0099";

    /// <summary>Two products of different quotas: tea 3 in all, 2 a week; soup 4 in all, 1 a week.</summary>
    public const string TwoProductCard = "L68F353AD0029";

    public static JsonObject Build(string levelBasis = "lifetime")
    {
        var members = new JsonArray();
        for (var id = 1; id <= MemberCount; id++)
            members.Add(new JsonObject { ["id"] = id, ["code"] = $"M{id:D4}", ["name"] = $"会员{id}", ["phone"] = $"1380000{id:D4}" });
        return new JsonObject
        {
            ["timeZone"] = "Asia/Shanghai",
            ["levelBasis"] = levelBasis,
            ["levels"] = new JsonArray(
                new JsonObject { ["id"] = 1, ["name"] = "普通会员", ["threshold"] = 0 },
                new JsonObject { ["id"] = 64, ["name"] = "金卡会员", ["threshold"] = 1000 }),
            ["channels"] = new JsonArray(
                Channel("hkl-test", ApiKey, "card.sale", "card.use", "card.refund", "card.query", "points.add", "level.set", "member.write", "member.read"),
                Channel("other", OtherApiKey, "points.add", "level.set"),
                Channel("cards-only", NoPointsApiKey, "card.sale"),
                WithCipher(Channel("aes-partner", "pk_aes_partner_1", "card.sale", "card.use", "card.refund", "card.query"), "aes-gcm", AesKey)),
            ["members"] = members,
            ["cards"] = new JsonArray(new JsonObject
            {
                ["id"] = OffSaleCard, ["name"] = "停售卡", ["price"] = 5m, ["validDays"] = 30, ["onSale"] = false,
                ["products"] = new JsonArray(new JsonObject { ["id"] = "P-X", ["name"] = "x", ["totalUsedNum"] = 1, ["cycleDays"] = 1, ["cycleNum"] = 1 }),
            }, new JsonObject
            {
                ["id"] = "L68F353AD0019", ["name"] = "名牛卡·月卡", ["price"] = 11.22m, ["validDays"] = 30, ["onSale"] = true,
                ["products"] = new JsonArray(new JsonObject
                {
                    ["id"] = "P-NOODLE", ["name"] = "招牌牛肉面", ["totalUsedNum"] = 8, ["cycleDays"] = 7, ["cycleNum"] = 2,
                }),
            }, new JsonObject
            {
                ["id"] = TwoProductCard, ["name"] = "名牛卡·双享", ["price"] = 20m, ["validDays"] = 30, ["onSale"] = true,
                ["products"] = new JsonArray(
                    new JsonObject { ["id"] = "P-TEA", ["name"] = "奶茶", ["totalUsedNum"] = 3, ["cycleDays"] = 7, ["cycleNum"] = 2 },
                    new JsonObject { ["id"] = "P-SOUP", ["name"] = "牛骨汤", ["totalUsedNum"] = 4, ["cycleDays"] = 7, ["cycleNum"] = 1 }),
            }),
            ["admins"] = new JsonArray(
                new JsonObject { ["user"] = AdminUser, ["password"] = AdminPassword, ["apiToken"] = AdminToken },
                new JsonObject { ["user"] = ViewerUser, ["password"] = ViewerPassword, ["role"] = "viewer", ["apiToken"] = ViewerToken }),
        };
    }

    public static string Write(JsonObject catalog)
    {
        var path = TestScratch.NewPath("catalog-", ".json");
        File.WriteAllText(path, catalog.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    private static JsonObject WithCipher(JsonObject channel, string cipher, string key)
    {
        channel["cipher"] = cipher;
        channel["desKey"] = key;
        return channel;
    }

    private static JsonObject Channel(string name, string apiKey, params string[] scopes) => new()
    {
        ["name"] = name, ["apiKey"] = apiKey, ["desKey"] = "k3y-8byt", ["cipher"] = "des-ecb",
        ["scopes"] = new JsonArray([.. scopes.Select(s => (JsonNode)s)]),
    };
}
