namespace Patron.Compat;

/// <summary>The seed contract a request was made under, if any.</summary>
public enum PartnerApi
{
    None,
    Points,
    Open,
}

public static class PartnerApis
{
    /// <summary>
    /// The points API lives under <c>/api/Setting</c>; the open API at <c>/openapi/v1/{method}</c>,
    /// behind <c>OpenApi:Prefix</c> when one is set. The native API's own document,
    /// <c>/openapi/v1.json</c>, is neither.
    /// </summary>
    public static PartnerApi Of(PathString path) =>
        path.StartsWithSegments("/api/Setting", StringComparison.OrdinalIgnoreCase) ? PartnerApi.Points
        : path.Value?.Contains("/openapi/v1/", StringComparison.OrdinalIgnoreCase) == true ? PartnerApi.Open
        : PartnerApi.None;
}
