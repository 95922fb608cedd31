using System.Security.Cryptography;
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
    /// idempotency key's upvote), 8 the same followed by a SHA-256 of everything before it, so that a corrupt snapshot is
    /// refused instead of restoring a wrong state. 1 to 7 are still read, without a check (a text poll from 5 restores with
    /// no rejected answers known).
    /// </summary>
    public const int Version = 8;

    /// <summary>The first version that ends with a checksum.</summary>
    private const int ChecksummedFrom = 8;

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

        stream.Write(SHA256.HashData(stream.GetBuffer().AsSpan(0, (int)stream.Length)));
        return stream.ToArray();
    }

    /// <summary>Adds the snapshot's polls to <paramref name="states"/>; <see cref="InvalidDataException"/> when the data is not a snapshot this build reads, or (from version 8) is corrupt.</summary>
    public static void Read(byte[] data, Dictionary<string, PollState> states)
    {
        if (data.Length < sizeof(int))
        {
            throw new InvalidDataException("The snapshot is too short to hold its format.");
        }

        var format = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(data);
        if (format is < 1 or > Version)
        {
            throw new InvalidDataException($"Snapshot format {format} is not known (this build reads {Version}).");
        }

        var end = data.Length;
        if (format >= ChecksummedFrom)
        {
            end -= SHA256.HashSizeInBytes;
            if (end < sizeof(int) || !SHA256.HashData(data.AsSpan(0, end)).AsSpan().SequenceEqual(data.AsSpan(end)))
            {
                throw new InvalidDataException("The snapshot's checksum does not match its data: it is corrupt.");
            }
        }

        using var r = new BinaryReader(new MemoryStream(data, 0, end, writable: false), Encoding.UTF8);
        r.ReadInt32(); // the format, read above

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
