using System.Text.Json;

namespace Tally.LoadGen;

/// <summary>
/// Reads one live message (<c>snapshot</c>, <c>delta</c>, <c>closed</c>; the same JSON over SSE and
/// WebSocket) into a watcher's view: the seq, the total, the absolute counts of the options it carries
/// (<c>options</c> of a snapshot, <c>changes</c> of a delta) and the watcher count when present.
/// </summary>
internal struct LiveUpdate
{
    public string? Type;
    public long Seq;
    public long? TotalVotes;
    public int? Watchers;

    /// <summary>The message's type, seq, total and watcher count (they come before the counts, but this does not rely on it).</summary>
    public static LiveUpdate Read(ReadOnlySpan<byte> json)
    {
        var update = new LiveUpdate();
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
            {
                continue;
            }

            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                update.Type = reader.ValueTextEquals("delta"u8) ? "delta" : reader.ValueTextEquals("snapshot"u8) ? "snapshot" : reader.GetString();
            }
            else if (reader.ValueTextEquals("seq"u8))
            {
                reader.Read();
                update.Seq = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("totalVotes"u8))
            {
                reader.Read();
                update.TotalVotes = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("watchers"u8))
            {
                reader.Read();
                update.Watchers = reader.GetInt32();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return update;
    }

    /// <summary>Writes the absolute counts the message carries into <paramref name="counts"/>, indexed by option id.</summary>
    public static void ApplyCounts(ReadOnlySpan<byte> json, long[] counts)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1
                && (reader.ValueTextEquals("changes"u8) || reader.ValueTextEquals("options"u8)))
            {
                reader.Read(); // [
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    long id = -1, votes = -1;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("id"u8))
                        {
                            reader.Read();
                            id = reader.GetInt64();
                        }
                        else if (reader.ValueTextEquals("votes"u8))
                        {
                            reader.Read();
                            votes = reader.GetInt64();
                        }
                        else
                        {
                            reader.Read();
                            reader.Skip();
                        }
                    }

                    if (id < 1 || id >= counts.Length || votes < 0)
                    {
                        throw new InvalidDataException($"A message carried option {id} with {votes} votes: {System.Text.Encoding.UTF8.GetString(json)}");
                    }

                    counts[id] = votes;
                }
            }
        }
    }
}
