namespace Tally.Server.Access;

/// <summary>What a live socket needs to admit its ops: its votes, its subscriptions, the credentials ops carry, and who a participant is in an event.</summary>
internal sealed record SocketAdmission(VoteAdmission Votes, ReadAdmission Reads, Authenticator Authenticator, StreamGuard Guard, Tally.Engine.ITallyEngine Engine, VoterIdentities Voters);
