namespace Tally.Server.Endpoints;

/// <summary>
/// A page at <c>/</c> so a new user who opens the server in a browser sees what to do next. Its style is
/// <c>wwwroot/home.css</c>: the pages' Content-Security-Policy allows no inline style or script.
/// </summary>
internal static class HomeEndpoints
{
    private const string Page = """
        <!doctype html>
        <html lang="en">
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Tally</title>
        <link rel="stylesheet" href="/home.css">
        <h1>Tally is running</h1>
        <p>A real-time polling backend: votes in, live tallies out. Create a poll with the admin key: the one you set in
        <code>TALLY_ADMIN_KEY</code>, or the one the server generated in its data folder (<code>cat data/admin.key</code>):</p>
        <pre>curl -X POST http://localhost:8080/v1/polls \
          -H "Authorization: Bearer $TALLY_ADMIN_KEY" -H 'Content-Type: application/json' \
          -d '{"question":"Tabs or spaces?","options":["Tabs","Spaces"]}'</pre>
        <p>Then open <code>/polls/{id}</code> with the id it returned: the live results page, whose bars move as votes
        arrive and which has a vote form. Over the API, vote with <code>POST /v1/polls/{id}/votes</code>, read
        <code>GET /v1/polls/{id}/results</code>, or follow <code>GET /v1/polls/{id}/events</code> (server-sent events).</p>
        <ul>
          <li><a href="/openapi/v1.json">OpenAPI document</a></li>
          <li><a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></li>
        </ul>
        </html>
        """;

    public static void MapHomeEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/", () => TypedResults.Content(Page, "text/html; charset=utf-8")).ExcludeFromDescription();
}
