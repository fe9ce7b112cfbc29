using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Patron.Compat;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Partners;

/// <summary>
/// The seed contracts' routes are short-circuited: run by the routing, they skip the operators'
/// sign-in and the console's culture, which partners never use. Every other route keeps them.
/// </summary>
public sealed class PartnerRoutesTests() : PatronTest(Backend.Sqlite)
{
    // ASP.NET Core's marker is internal; its name is what ShortCircuit() adds.
    private static bool ShortCircuited(Endpoint e) => e.Metadata.Any(m => m.GetType().Name == "ShortCircuitMetadata");

    [Fact]
    public void ExactlyTheSeedContractsRoutesAreShortCircuited()
    {
        var routes = App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Path: "/" + e.RoutePattern.RawText!.TrimStart('/'), ShortCircuited: ShortCircuited(e))).ToList();

        var partner = routes.Where(r => PartnerApis.Of(new PathString(r.Path)) != PartnerApi.None).ToList();
        Assert.True(partner.Count >= 8, $"only {partner.Count} seed routes found");
        Assert.All(partner, r => Assert.True(r.ShortCircuited, $"{r.Path} is not short-circuited"));
        Assert.All(routes.Except(partner), r => Assert.False(r.ShortCircuited, $"{r.Path} skips sign-in"));
    }
}
