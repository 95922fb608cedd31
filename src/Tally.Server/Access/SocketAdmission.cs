namespace Tally.Server.Access;

/// <summary>What a live socket needs to admit its ops: its votes, its subscriptions, and the credentials ops carry.</summary>
internal sealed record SocketAdmission(VoteAdmission Votes, ReadAdmission Reads, Authenticator Authenticator, StreamGuard Guard);
