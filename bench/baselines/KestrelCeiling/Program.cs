using System.Collections.Concurrent;
using KestrelCeiling;

// The ceiling, with none of Tally's guarantees (no validation beyond parsing, no engine, no log, no dedupe):
// - ingest: POST /v1/polls/{id}/votes on an id it does not know parses the JSON body and answers 201: what Kestrel and
//   source-generated JSON cost for Tally's vote endpoint shape;
// - fan-out: polls made with POST /v1/polls count their votes in memory, and a bare WebSocket broadcaster (GET /ws?pollId=)
//   sends the same pre-encoded bytes to every socket of a changed poll every 50 ms: the platform's floor of cost.
// Kestrel keeps a default app's settings.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, CeilingJsonContext.Default));
var polls = new ConcurrentDictionary<string, CeilingPoll>(StringComparer.Ordinal);
builder.Services.AddSingleton(polls);
builder.Services.AddHostedService<Broadcaster>();

var app = builder.Build();
app.UseWebSockets();
long seq = 0;
long nextPoll = 0;

app.MapPost("/v1/polls", (CreatePollRequest request) =>
{
    var options = request.Options?.Length ?? 0;
    if (options is < 1 or > 16)
    {
        return Results.BadRequest();
    }

    var id = "p" + Interlocked.Increment(ref nextPoll);
    polls[id] = new CeilingPoll(id, options);
    return TypedResults.Created($"/v1/polls/{id}", new CreatedPoll(id));
});

app.MapPost("/v1/polls/{id}/votes", (string id, VoteRequest vote) =>
{
    if (polls.TryGetValue(id, out var poll))
    {
        var pollSeq = poll.Vote(vote.OptionIds);
        return pollSeq < 0 ? Results.UnprocessableEntity() : TypedResults.Created((string?)null, new VoteResponse(id + "-" + pollSeq, pollSeq, "counted"));
    }

    var n = Interlocked.Increment(ref seq);
    return TypedResults.Created((string?)null, new VoteResponse(id + "-" + n, n, "counted"));
});

app.MapGet("/v1/polls/{id}/results", (string id) => polls.TryGetValue(id, out var poll) ? Results.Ok(poll.Results()) : Results.NotFound());

app.Map("/ws", async (HttpContext context, string pollId) =>
{
    if (!context.WebSockets.IsWebSocketRequest || !polls.TryGetValue(pollId, out var poll))
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    await poll.WatchAsync(socket, context.RequestAborted);
});

app.MapGet("/readyz", () => TypedResults.Ok(new HealthResponse("ready")));

await app.RunAsync();
