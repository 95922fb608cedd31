using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tally.LoadGen;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(RunResult))]
[JsonSerializable(typeof(FanoutResult))]
[JsonSerializable(typeof(IdleResult))]
[JsonSerializable(typeof(string))]
internal sealed partial class LoadGenJsonContext : JsonSerializerContext;
