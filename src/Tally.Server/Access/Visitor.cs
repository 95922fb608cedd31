using System.Net;

namespace Tally.Server.Access;

/// <summary>
/// One request as the admission path sees it, whatever transport brought it: who (the authenticated caller),
/// from where (the client's address, for rate limits), the anonymous voter cookie a browser sent, and the browser
/// origin when the request is cross-origin (WebSocket only: HTTP's cross-origin rules are CORS's).
/// </summary>
/// <param name="VoterCookie">The <c>tally_voter</c> cookie (an anonymous voter token), if any.</param>
/// <param name="CrossOrigin">The <c>Origin</c> of a browser on another site; null for same-origin requests and non-browser clients.</param>
/// <param name="Transport">For metrics and logs: <c>http</c>, <c>websocket</c>, <c>sse</c>, <c>grpc</c>.</param>
internal sealed record Visitor(Caller Caller, IPAddress? Address, string? VoterCookie, string? CrossOrigin, string Transport)
{
    /// <summary>Where an HTTP request's rate-limit standing goes (its <c>RateLimit</c> headers); null on the other transports.</summary>
    public Limits.RateLimitReport? Report { get; init; }

    /// <summary>The same request, speaking with another credential (a WebSocket op's own token).</summary>
    public Visitor As(Caller caller) => this with { Caller = caller };
}

/// <summary>A ballot as a transport received it, before the voter is known: the identity fields are as sent.</summary>
/// <param name="OptionIds">The chosen options as sent; null when the ballot gives a <paramref name="Value"/> instead.</param>
/// <param name="Value">On a rating or nps poll: the value chosen, in place of <paramref name="OptionIds"/>.</param>
/// <param name="Text">On a text poll: the answer; on a Q&amp;A poll: a new question.</param>
/// <param name="Upvote">On a Q&amp;A poll: the vote id of the question upvoted, as sent.</param>
internal sealed record Ballot(string PollId, int[]? OptionIds, string? VoterId, string? InviteCode, string? IdempotencyKey, int? Value = null, string? Text = null, string? Upvote = null);
