using System.Text;
using Tally.Engine;
using Tally.Events;

namespace Tally.Core.Tests.Engine;

/// <summary>A text poll's snapshot part: version 6 keeps the rejected answers; version 5 (landed before them) still reads.</summary>
public sealed class TextSnapshotTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static TextState Sample(bool reject)
    {
        var state = new TextState();
        state.Apply(new TextAnswered("p", 2, At, "v1", "Blue sky", ["blue", "sky"], Held: false, null));
        state.Apply(new TextAnswered("p", 3, At, "v2", "Spam spam", ["spam"], Held: true, null));
        state.Apply(new TextAnswered("p", 4, At, "v3", "Held one", ["held"], Held: true, null));
        if (reject)
        {
            state.Apply(new AnswerModerated("p", 5, At, 3, Approved: false));
        }

        state.ForgetUndo();
        return state;
    }

    private static byte[] Bytes(TextState state)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            state.Write(w);
        }

        return stream.ToArray();
    }

    private static TextState Read(byte[] bytes, int version)
    {
        var state = new TextState();
        using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
        state.Read(r, version);
        Assert.Equal(bytes.Length, r.BaseStream.Position); // read to the end: the next poll's part starts right after
        return state;
    }

    [Fact]
    public void Version_6_keeps_the_rejected_answers_so_erasing_one_moves_no_count()
    {
        var copy = Read(Bytes(Sample(reject: true)), SnapshotFormat.Version);
        Assert.Equal((1, 1), (copy.Answers, copy.HeldCount));
        copy.Erase(3); // the rejected one
        Assert.Equal((1, 1), (copy.Answers, copy.HeldCount));
    }

    [Fact]
    public void A_version_5_part_without_rejected_answers_reads_to_its_end()
    {
        var v6 = Bytes(Sample(reject: false));
        var v5 = v6[..^4]; // version 5 ended after the held answers; 6 adds the count of rejected ones (0 here)
        var copy = Read(v5, 5);
        Assert.Equal((1, 2), (copy.Answers, copy.HeldCount));
        Assert.Equal(Bytes(copy), v6);
    }
}
