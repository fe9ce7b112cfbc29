using Patron.Tests.Infrastructure;

namespace Patron.Tests.Security;

/// <summary>
/// What the hostile-input tests can still demand of a code when several poisons are planted at
/// once: the layer checked first decides. On the points API that is the API key, so a request
/// with a bad key gets 1001 and one from a channel without the scope 1005, whatever its body.
/// </summary>
public abstract partial class HostileInputTests
{
    private static readonly string[] PointsChannelKeys = [TestCatalog.ApiKey, TestCatalog.OtherApiKey];

    /// <summary>1001 or 1005 when the Authorization header alone decides the answer; null when the key is good.</summary>
    private static int? ExpectedAuthCode(HostileRequest request)
    {
        var values = request.Headers.Where(h => h.Name == "Authorization").Select(h => h.Value.Trim()).ToList();
        if (values.Count != 1 || !values[0].StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return 1001;
        var key = values[0][7..].Trim();
        if (PointsChannelKeys.Contains(key))
            return null;
        return key == TestCatalog.NoPointsApiKey ? 1005 : 1001;
    }

    private static void AssertAuthDecides(HostileRequest request, int errcode)
    {
        if (ExpectedAuthCode(request) is { } expected)
            Assert.True(errcode == expected, $"the API key alone decides this answer: expected {expected}, got {errcode}");
        else
            Assert.True(errcode is not (1001 or 1005), $"a good key got {errcode}");
    }

    /// <summary>Of the cases, the share that passed every check of form and reached a business rule (a 2xxx code).</summary>
    private static void AssertBusinessShare(string name, IReadOnlyDictionary<int, int> codes, int cases, double minShare)
    {
        var business = codes.Where(c => c.Key is >= 2000 and < 3000).Sum(c => c.Value);
        Assert.True(business >= minShare * cases, $"{name}: only {business} of {cases} cases reached a business rule (at least {minShare:P0} should)");
    }
}
