using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tally.Ceiling;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(VoteRequest))]
[JsonSerializable(typeof(VoteResponse))]
[JsonSerializable(typeof(HealthResponse))]
internal sealed partial class CeilingJsonContext : JsonSerializerContext;
