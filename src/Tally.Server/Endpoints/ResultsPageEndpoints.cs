using Microsoft.AspNetCore.Routing;

namespace Tally.Server.Endpoints;

/// <summary>
/// The live results page: static files from <c>wwwroot</c> (shipped in the app's folder, which is the
/// content root) and <c>GET /polls/{id}</c> → <c>poll.html</c>, which reads the poll id from its URL.
/// </summary>
internal static class ResultsPageEndpoints
{
    public const string PageFile = "poll.html";

    public static WebApplication UseResultsPage(this WebApplication app)
    {
        var files = new StaticFileOptions
        {
            // No build step, so no fingerprinted names: browsers revalidate (ETag) and see a new version at once.
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
        };
        app.UseStaticFiles(files);
        app.MapFallbackToFile("/polls/{id}", PageFile, files)
            .WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]))
            .ExcludeFromDescription();
        return app;
    }
}
