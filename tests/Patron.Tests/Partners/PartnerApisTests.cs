using Microsoft.AspNetCore.Http;
using Patron.Compat;

namespace Patron.Tests.Partners;

/// <summary>
/// Which envelope a failure raised outside a handler is written in: the contract a path is
/// served under.
/// </summary>
public sealed class PartnerApisTests
{
    [Theory]
    [InlineData("/api/Setting/KH_GRHY/Point/Add", PartnerApi.Points)]
    [InlineData("/API/setting/KH_GRHY/Level/Set", PartnerApi.Points)]
    [InlineData("/openapi/v1/useMncard", PartnerApi.Open)]
    [InlineData("/partner/openapi/v1/sendMncardForSale", PartnerApi.Open)] // behind OpenApi:Prefix
    [InlineData("/openapi/v1.json", PartnerApi.None)] // the native API's own document
    [InlineData("/api/SettingsPage", PartnerApi.None)]
    [InlineData("/api/members/1", PartnerApi.None)]
    [InlineData("/", PartnerApi.None)]
    [InlineData("", PartnerApi.None)]
    public void APathBelongsToTheContractItIsServedUnder(string path, PartnerApi expected) =>
        Assert.Equal(expected, PartnerApis.Of(new PathString(path.Length == 0 ? null : path)));
}
