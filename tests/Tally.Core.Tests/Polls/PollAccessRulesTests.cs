using Tally.Polls;
using Tally.Testing;

namespace Tally.Core.Tests.Polls;

/// <summary>The rules for a poll's workspace, voter identity, access and results visibility.</summary>
public sealed class PollAccessRulesTests
{
    private static PollDefinition? Define(CreatePoll command, out Rejection? rejection) => PollRules.TryDefine(command, "p1", TestEvents.Epoch, out rejection);

    [Fact]
    public void The_definition_takes_the_commands_workspace_identity_access_and_visibility()
    {
        var poll = Define(new CreatePoll("Which?", ["a", "b"], Workspace: "acme", VoterIdentity: VoterIdentity.Token, Access: PollAccess.Private, Results: ResultsVisibility.Never), out var rejection);

        Assert.Null(rejection);
        Assert.Equal("acme", poll!.Workspace);
        Assert.Equal(VoterIdentity.Token, poll.VoterIdentity);
        Assert.Equal(PollAccess.Private, poll.Access);
        Assert.Equal(ResultsVisibility.Never, poll.Results);
    }

    [Fact]
    public void Invite_codes_and_after_vote_results_need_voter_dedupe()
    {
        Assert.Null(Define(new CreatePoll("Which?", ["a", "b"], Dedupe: DedupePolicy.None, VoterIdentity: VoterIdentity.Invite), out var invite));
        Assert.True(invite!.Errors!.ContainsKey("voterIdentity"));
        Assert.Null(Define(new CreatePoll("Which?", ["a", "b"], Dedupe: DedupePolicy.None, Results: ResultsVisibility.AfterVote), out var afterVote));
        Assert.True(afterVote!.Errors!.ContainsKey("resultsVisibility"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Acme")]
    [InlineData("-acme")]
    [InlineData("acme-")]
    [InlineData("ac me")]
    [InlineData("a123456789012345678901234567890123456789x")]
    public void A_workspace_id_is_lowercase_letters_digits_and_inner_hyphens(string workspace)
    {
        Assert.Null(Define(new CreatePoll("Which?", ["a", "b"], Workspace: workspace), out var rejection));
        Assert.True(rejection!.Errors!.ContainsKey("workspace"));
    }
}
