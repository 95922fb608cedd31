using System.Text.Json;
using System.Text.Json.Serialization;

namespace KestrelCeiling;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(VoteRequest))]
[JsonSerializable(typeof(VoteResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(CreatePollRequest))]
[JsonSerializable(typeof(CreatedPoll))]
[JsonSerializable(typeof(ResultsMessage))]
internal sealed partial class CeilingJsonContext : JsonSerializerContext;
