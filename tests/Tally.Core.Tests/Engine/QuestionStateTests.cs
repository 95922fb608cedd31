using System.Text;
using Tally.Engine;
using Tally.Events;
using Tally.Polls;

namespace Tally.Core.Tests.Engine;

/// <summary>
/// A Q&amp;A poll's state: every event reverses to the very bytes the state had before it, the snapshot part reads back to the
/// same state (form 7), an older snapshot of another kind still reads, the events survive the codec, and the poll's questions
/// are bounded.
/// </summary>
public sealed class QuestionStateTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static PollDefinition Qa(bool moderated = true, int perVoter = 5) =>
        new("qa12345678", "Questions?", PollKind.Questions, 1, [], At, null, DedupePolicy.Voter, false, Questions: new QuestionSettings(280, moderated, perVoter));

    private static byte[] Bytes(PollState state)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            state.Write(w);
        }

        return stream.ToArray();
    }

    private static PollState Read(byte[] bytes, int version = SnapshotFormat.Version)
    {
        using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
        var state = PollState.Read(r, version);
        Assert.Equal(bytes.Length, r.BaseStream.Position); // read to its end: the next poll's part starts right after
        return state;
    }

    private static string Board(PollState state)
    {
        var q = state.ToResults().Questions!;
        return $"{q.Asked}/{q.Held}:" + string.Concat(q.Items.Select(i => $" {i.Seq}={i.Votes}" + (i.Answered ? "*" : "")));
    }

    private static PollEvent Cast(PollState state, CastVote vote)
    {
        var outcome = state.Decide(vote, At, out var made);
        Assert.True(made is not null, outcome.Rejection?.Detail);
        return made!;
    }

    /// <summary>The events of a busy poll, each decided against the state as it was: asked, held, moderated, upvoted, answered, erased.</summary>
    private static IEnumerable<Func<PollState, PollEvent>> Steps()
    {
        var id = Qa().Id;
        yield return s => Cast(s, new CastVote(id, [], "ada", "ka", "First?"));
        yield return s => Cast(s, new CastVote(id, [], "bob", null, "Second?"));
        yield return s => Cast(s, new CastVote(id, [], "cara", null, "Spam?"));
        yield return s => s.Record(new AnswerModerated(id, s.Seq + 1, At, 2, Approved: true));
        yield return s => s.Record(new AnswerModerated(id, s.Seq + 1, At, 3, Approved: true));
        yield return s => s.Record(new AnswerModerated(id, s.Seq + 1, At, 4, Approved: false));
        yield return s => Cast(s, new CastVote(id, [], "bob", "kb", Upvote: 2));
        yield return s => Cast(s, new CastVote(id, [], "ada", null, Upvote: 3));
        yield return s => Cast(s, new CastVote(id, [], "cara", null, Upvote: 3));
        yield return s => Cast(s, new CastVote(id, [], "ada", null, Upvote: 2));
        yield return s => s.Record(new QuestionAnswered(id, s.Seq + 1, At, 3));
        yield return s => s.Erase("ada", At)!;
        yield return s => Cast(s, new CastVote(id, [], "ada", null, "Back again?"));
        yield return s => s.Erase("cara", At)!;
    }

    [Fact]
    public void Every_event_reverses_to_the_bytes_the_state_had_before_it()
    {
        var state = new PollState(Qa(), createdPosition: 1);
        var boards = new List<string>();
        foreach (var step in Steps())
        {
            var before = Bytes(state);
            var board = Board(state);
            var e = step(state);
            state.Unapply(e); // the append failed
            Assert.Equal(board, Board(state));
            Assert.Equal(before, Bytes(state));
            state.Apply(e); // the retry, durable this time
            state.ForgetUndo();
            boards.Add(Board(state));
        }

        Assert.Equal(
            ["0/1:", "0/2:", "0/3:", "1/2: 2=0", "2/1: 2=0 3=0", "2/0: 2=0 3=0", "2/0: 2=1 3=0", "2/0: 2=1 3=1", "2/0: 3=2 2=1", "2/0: 2=2 3=2",
             "2/0: 2=2 3=2*", "1/0: 3=1*", "1/1: 3=1*", "1/1: 3=0*"],
            boards);
        Assert.Equal(3L, state.TotalVotes); // bob's question and upvote (of an erased question), ada's new one; cara's went with her
    }

    [Fact]
    public void A_whole_batch_reverses_newest_first()
    {
        var state = new PollState(Qa(), createdPosition: 1);
        var before = Bytes(state);
        var events = new List<PollEvent>();
        foreach (var step in Steps())
        {
            events.Add(step(state));
        }

        for (var i = events.Count - 1; i >= 0; i--)
        {
            state.Unapply(events[i]);
        }

        Assert.Equal(before, Bytes(state));
    }

    [Fact]
    public void The_snapshot_part_reads_back_to_the_same_state_and_decisions()
    {
        var state = new PollState(Qa(), createdPosition: 1);
        foreach (var step in Steps().Take(11))
        {
            step(state);
        }

        var copy = Read(Bytes(state));
        Assert.Equal((Board(state), state.TotalVotes, state.Seq), (Board(copy), copy.TotalVotes, copy.Seq));
        Assert.Equal(Bytes(state), Bytes(copy));
        Assert.Equal(RejectionKind.AlreadyVoted, copy.Decide(new CastVote(Qa().Id, [], "ada", null, Upvote: 3), At, out _).Rejection?.Kind);
        Assert.True(copy.Decide(new CastVote(Qa().Id, [], "bob", "kb", Upvote: 2), At, out _).Replayed); // the key remembers its upvote
        Assert.Equal(RejectionKind.IdempotencyKeyReused, copy.Decide(new CastVote(Qa().Id, [], "bob", "kb", Upvote: 3), At, out _).Rejection?.Kind);
        Assert.Equal([2L, 3L], copy.ToResults().Questions!.Items.Select(i => i.Seq));
    }

    [Fact]
    public void An_erased_questions_text_is_not_in_the_snapshot()
    {
        var state = new PollState(Qa(moderated: false), createdPosition: 1);
        Cast(state, new CastVote(Qa().Id, [], "ada", null, "A very personal question?"));
        state.Erase("ada", At);

        Assert.DoesNotContain("personal", Encoding.UTF8.GetString(Bytes(state)), StringComparison.Ordinal);
        Assert.Equal("0/0:", Board(Read(Bytes(state))));
    }

    [Fact]
    public void A_version_6_snapshot_of_a_choice_poll_with_an_idempotency_key_still_reads()
    {
        var definition = new PollDefinition("abc123defg", "Which?", PollKind.Single, 1, [new PollOption(1, "A"), new PollOption(2, "B")], At, null, DedupePolicy.None, false);
        using var part = new MemoryStream();
        using (var w = new BinaryWriter(part, Encoding.UTF8, leaveOpen: true))
        {
            EventCodec.WriteDefinition(w, definition, version: 5);
            w.Write(1L); // created position
            w.Write((byte)PollStatus.Open);
            w.Write(long.MinValue); // not closed
            w.Write(2L); // seq
            w.Write(1L); // total votes
            w.Write(0L); // option 1
            w.Write(1L); // option 2
            w.Write(0); // ballots
            w.Write(1); // one idempotency key, as form 6 wrote it: no upvote after the text
            w.Write("k1");
            w.Write(2L);
            w.Write(2L);
            w.Write(false);
            EventCodec.WriteNullable(w, null);
            EventCodec.WriteIds(w, [2]);
            w.Write(At.ToUnixTimeMilliseconds());
            EventCodec.WriteNullable(w, null);
            w.Write(long.MinValue); // opened at
        }

        var state = Read(part.ToArray(), version: 6);
        Assert.Equal([0L, 1L], state.Counts);
        var replayed = state.Decide(new CastVote(definition.Id, [2], null, "k1"), At, out var made);
        Assert.Equal((true, null), (replayed.Replayed, made));
    }

    [Fact]
    public void Question_events_and_settings_survive_the_codec()
    {
        var definition = Qa(moderated: true, perVoter: 7);
        var created = (PollCreated)EventCodec.Decode(EventCodec.Encode(new PollCreated(definition)));
        Assert.Equal(new QuestionSettings(280, true, 7), created.Definition.Questions);
        Assert.Equal(PollKind.Questions, created.Definition.Kind);

        var asked = new QuestionAsked(definition.Id, 2, At, "ada", "Why?", Held: true, "k");
        var upvoted = new QuestionUpvoted(definition.Id, 3, At, "bob", 2, null);
        var answered = new QuestionAnswered(definition.Id, 4, At, 2);
        var erased = new QuestionsErased(definition.Id, 5, At, [2], [3], [2]);
        Assert.Equal(asked, EventCodec.Decode(EventCodec.Encode(asked)));
        Assert.Equal(upvoted, EventCodec.Decode(EventCodec.Encode(upvoted)));
        Assert.Equal(answered, EventCodec.Decode(EventCodec.Encode(answered)));
        var decoded = Assert.IsType<QuestionsErased>(EventCodec.Decode(EventCodec.Encode(erased)));
        Assert.Equal([2L, 3L, 2L], decoded.Asked.Concat(decoded.Upvotes).Concat(decoded.UpvotedQuestions));
        Assert.Equal([16, 17, 18, 19], new PollEvent[] { asked, upvoted, answered, erased }.Select(e => (int)EventCodec.TypeOf(e)));
    }

    [Fact]
    public void A_poll_keeps_at_most_its_questions_and_then_takes_upvotes_only()
    {
        var state = new PollState(Qa(moderated: false, perVoter: 100), createdPosition: 1);
        for (var i = 0; i < QuestionRules.MaxQuestions; i++)
        {
            Cast(state, new CastVote(Qa().Id, [], $"voter{i / 100}", null, $"Question {i}?"));
        }

        var full = state.Decide(new CastVote(Qa().Id, [], "late", null, "One more?"), At, out var none);
        Assert.Equal((RejectionKind.QuestionsFull, null), (full.Rejection?.Kind, none));
        Assert.Equal(VoteStatus.Counted, state.Decide(new CastVote(Qa().Id, [], "late", null, Upvote: 9_000), At, out _).Status);

        var results = state.ToResults().Questions!;
        Assert.Equal((10_000L, QuestionRules.TopQuestions), (results.Asked, results.Items.Count)); // the top 100 only
        Assert.Equal([9_000L, 2L, 3L], results.Items.Take(3).Select(i => i.Seq)); // the upvoted one, then the oldest
    }
}
