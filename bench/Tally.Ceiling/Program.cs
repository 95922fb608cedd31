using Tally.Ceiling;

// The ceiling: what Kestrel and source-generated JSON cost for Tally's vote endpoint shape, with none of
// Tally's work (no validation beyond parsing, no engine, no log). Kestrel keeps a default app's settings.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, CeilingJsonContext.Default));

var app = builder.Build();
long seq = 0;

app.MapPost("/v1/polls/{id}/votes", (string id, VoteRequest vote) =>
{
    var n = Interlocked.Increment(ref seq);
    return TypedResults.Created((string?)null, new VoteResponse(id + "-" + n, n, "counted"));
});
app.MapGet("/readyz", () => TypedResults.Ok(new HealthResponse("ready")));

await app.RunAsync();
