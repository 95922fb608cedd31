using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using SignalRBaseline;

// Live poll results with ASP.NET Core SignalR, the way the tutorials build them: votes over HTTP, counts in memory,
// watchers join the poll's group through a hub method and get "results" (the poll's whole counts) pushed to them.
// BASELINE_MODE=naive   — every vote broadcasts the new counts to the poll's group (the common tutorial design);
// BASELINE_MODE=throttled (default) — at most one broadcast per poll per 50 ms (leading and trailing edge).
// None of Tally's guarantees: no durability, no dedupe, no resume.
var mode = Environment.GetEnvironmentVariable("BASELINE_MODE") ?? "throttled";
if (mode is not ("naive" or "throttled"))
{
    throw new ArgumentException($"BASELINE_MODE is naive or throttled, not '{mode}'.");
}

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSignalR(); // JSON protocol, default options
var polls = new ConcurrentDictionary<string, Poll>(StringComparer.Ordinal);
builder.Services.AddSingleton(polls);

var app = builder.Build();
long nextPoll = 0;

app.MapPost("/v1/polls", (CreatePollRequest request, IHubContext<ResultsHub> hub) =>
{
    var options = request.Options?.Length ?? 0;
    if (options is < 1 or > 16)
    {
        return Results.BadRequest();
    }

    var id = "p" + Interlocked.Increment(ref nextPoll);
    polls[id] = new Poll(id, options, mode == "throttled" ? new Throttle(TimeSpan.FromMilliseconds(50)) : null, hub);
    return Results.Created($"/v1/polls/{id}", new CreatedPoll(id));
});

app.MapPost("/v1/polls/{id}/votes", async (string id, VoteRequest vote) =>
{
    if (!polls.TryGetValue(id, out var poll))
    {
        return Results.NotFound();
    }

    var seq = await poll.VoteAsync(vote.OptionIds);
    return seq < 0 ? Results.UnprocessableEntity() : Results.Created((string?)null, new VoteResponse(id + "-" + seq, seq, "counted"));
});

app.MapGet("/v1/polls/{id}/results", (string id) => polls.TryGetValue(id, out var poll) ? Results.Ok(poll.Results()) : Results.NotFound());
app.MapGet("/readyz", () => Results.Ok(new { status = "ready", mode }));
app.MapHub<ResultsHub>("/hubs/results");

await app.RunAsync();
