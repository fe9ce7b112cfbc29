using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;

namespace Patron.Console.Pages;

/// <summary>The API reference, read from the app's own routing table so that it cannot drift from the code.</summary>
public sealed class ApiModel(EndpointDataSource endpoints) : PageModel
{
    public sealed record Route(string Tag, string Method, string Path, bool AdminOnly);

    public List<Route> Routes { get; private set; } = [];

    public void OnGet() => Routes = [.. endpoints.Endpoints.OfType<RouteEndpoint>()
        .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1", StringComparison.Ordinal) == true)
        .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => new Route(
            e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.ITagsMetadata>()?.Tags.FirstOrDefault() ?? "",
            m, e.RoutePattern.RawText!,
            e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == OperatorAuth.WritePolicy))))
        .OrderBy(r => r.Tag).ThenBy(r => r.Path)];
}
