namespace Tally.Limits;

/// <summary>Whose bucket a charge takes from. Each subject has its own rule and its own buckets.</summary>
public enum RateSubject
{
    /// <summary>The client's address (an IPv6 client's /64): votes from callers without an API key.</summary>
    Ip,

    /// <summary>The voter the admission path resolved (hashed with the workspace): a voter changing their vote.</summary>
    Voter,

    /// <summary>An API key (or the root key): a backend voting for its users.</summary>
    Key,

    /// <summary>The client's address, for anonymous voter ids (<c>POST /v1/voters</c>).</summary>
    NewVoter,

    /// <summary>The client's address, for join-code lookups and joins (<c>GET /v1/join/{code}</c>, <c>POST /v1/events/{id}/join</c>).</summary>
    JoinCode,
}
