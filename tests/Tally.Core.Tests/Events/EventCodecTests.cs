using System.Text;
using Tally.Access;
using Tally.Engine;
using Tally.Events;
using Tally.Polls;

namespace Tally.Core.Tests.Events;

public sealed class EventCodecTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000);

    private static PollDefinition Definition(string workspace = WorkspaceIds.Default, VoterIdentity identity = VoterIdentity.Client, PollAccess access = PollAccess.Public, ResultsVisibility results = ResultsVisibility.Live) =>
        new("abc123defg", "Which?", PollKind.Single, 1, [new PollOption(1, "A"), new PollOption(2, "B")], At, null, DedupePolicy.Voter, false, workspace, identity, access, results);

    [Fact]
    public void A_created_poll_keeps_its_workspace_voter_identity_access_and_results_visibility()
    {
        var definition = Definition("acme", VoterIdentity.Invite, PollAccess.Private, ResultsVisibility.AfterClose);

        var decoded = (PollCreated)EventCodec.Decode(EventCodec.Encode(new PollCreated(definition)));

        Assert.Equal("acme", decoded.Definition.Workspace);
        Assert.Equal(VoterIdentity.Invite, decoded.Definition.VoterIdentity);
        Assert.Equal(PollAccess.Private, decoded.Definition.Access);
        Assert.Equal(ResultsVisibility.AfterClose, decoded.Definition.Results);
    }

    [Fact]
    public void A_version_1_poll_reads_as_the_default_workspaces_public_live_client_id_poll()
    {
        // The bytes an earlier build wrote: format 1, no access fields after the definition.
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write((byte)1);
            w.Write((byte)1);
            w.Write("abc123defg");
            w.Write(1L);
            w.Write(At.ToUnixTimeMilliseconds());
            EventCodec.WriteDefinition(w, Definition(), version: 1);
        }

        var decoded = (PollCreated)EventCodec.Decode(stream.ToArray());

        Assert.Equal(Definition() with { Options = decoded.Definition.Options }, decoded.Definition);
        Assert.Equal(WorkspaceIds.Default, decoded.Definition.Workspace);
        Assert.Equal(VoterIdentity.Client, decoded.Definition.VoterIdentity);
        Assert.Equal(PollAccess.Public, decoded.Definition.Access);
        Assert.Equal(ResultsVisibility.Live, decoded.Definition.Results);
    }

    [Fact]
    public void A_version_1_snapshot_still_reads()
    {
        var state = new PollState(Definition(), createdPosition: 1);
        using var part = new MemoryStream();
        using (var w = new BinaryWriter(part, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(1); // one poll
            EventCodec.WriteDefinition(w, state.Definition, version: 1);
            w.Write(state.CreatedPosition);
            w.Write((byte)state.Status);
            w.Write(long.MinValue);
            w.Write(state.Seq);
            w.Write(state.TotalVotes);
            foreach (var c in state.Counts)
            {
                w.Write(c);
            }

            w.Write(0); // ballots
            w.Write(0); // idempotency keys
        }

        using var snapshot = new MemoryStream();
        using (var w = new BinaryWriter(snapshot, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(1); // format 1
            w.Write(1); // one part
            w.Write((int)part.Length);
            w.Write(part.ToArray());
        }

        var states = new Dictionary<string, PollState>();
        SnapshotFormat.Read(snapshot.ToArray(), states);

        Assert.Equal(WorkspaceIds.Default, states["abc123defg"].Definition.Workspace);
        Assert.Equal(VoterIdentity.Client, states["abc123defg"].Definition.VoterIdentity);
    }
}
