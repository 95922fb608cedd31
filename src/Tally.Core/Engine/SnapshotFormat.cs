using System.Text;

namespace Tally.Engine;

/// <summary>
/// The engine's snapshot data: a version, then one part per partition, each the count of its polls
/// and each poll's <see cref="PollState"/> form. Partition count may change between writing and reading.
/// </summary>
internal static class SnapshotFormat
{
    /// <summary>
    /// The version this build writes; 2 holds poll definitions with their access fields, 3 with their scale's min too,
    /// 4 with their schedule (opensAt, draft, maxBallots), 5 with quiz and event settings, each poll's opening time and an
    /// event's progress and leaderboard (and text polls' answers, held answers and terms), 6 with a text poll's rejected
    /// answers, 7 with Q&amp;A polls (their definitions in the event codec's form 6, their questions and voters, and an
    /// idempotency key's upvote), 8 the same followed by the SHA-256 of everything before it (a snapshot that fails it is
    /// not used: the engine replays the log instead). 1 to 7 are still read (a text poll from 5 restores with no rejected
    /// answers known).
    /// </summary>
    public const int Version = 8;

    private const int ChecksumBytes = 32;

    /// <summary>The poll definitions' form inside a snapshot of <paramref name="snapshotVersion"/> (the same number up to 5, the event codec's; 6 from 7 on).</summary>
    public static int DefinitionVersion(int snapshotVersion) => snapshotVersion >= 7 ? 6 : Math.Min(snapshotVersion, 5);

    public static byte[] Write(Partition.Capture[] parts)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Version);
            w.Write(parts.Length);
            foreach (var part in parts)
            {
                w.Write(part.Data.Length);
                w.Write(part.Data);
            }
        }

        var content = stream.GetBuffer().AsSpan(0, (int)stream.Length);
        Span<byte> checksum = stackalloc byte[ChecksumBytes];
        System.Security.Cryptography.SHA256.HashData(content, checksum);
        stream.Write(checksum);
        return stream.ToArray();
    }

    /// <summary>Reads a snapshot into <paramref name="states"/>; <see cref="InvalidDataException"/> (or <see cref="EndOfStreamException"/>) when it is not whole.</summary>
    public static void Read(byte[] data, Dictionary<string, PollState> states)
    {
        using var r = new BinaryReader(new MemoryStream(data, writable: false), Encoding.UTF8);
        var format = r.ReadInt32();
        if (format is < 1 or > Version)
        {
            throw new InvalidDataException($"Snapshot format {format} is not known (this build reads {Version}).");
        }

        if (format >= 8)
        {
            Span<byte> checksum = stackalloc byte[ChecksumBytes];
            if (data.Length < sizeof(int) + ChecksumBytes
                || !System.Security.Cryptography.SHA256.TryHashData(data.AsSpan(0, data.Length - ChecksumBytes), checksum, out _)
                || !checksum.SequenceEqual(data.AsSpan(data.Length - ChecksumBytes)))
            {
                throw new InvalidDataException($"The snapshot ({data.Length:N0} bytes) fails its checksum: it was torn or changed after it was written.");
            }
        }

        var parts = r.ReadInt32();
        for (var p = 0; p < parts; p++)
        {
            var length = r.ReadInt32();
            using var part = new BinaryReader(new MemoryStream(r.ReadBytes(length), writable: false), Encoding.UTF8);
            var count = part.ReadInt32();
            for (var i = 0; i < count; i++)
            {
                var state = PollState.Read(part, format);
                states.Add(state.Definition.Id, state);
            }
        }
    }
}
