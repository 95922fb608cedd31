using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;
using Tally.Limits;
using Tally.Metrics;
using Tally.Polls;
using Tally.Server.Access;

namespace Tally.Server.Limits;

/// <summary>
/// The rate limits (<c>Tally:RateLimit</c>) as the admission path applies them, the same for every transport. A vote
/// takes a token from the bucket of its caller (the client's address; an API key's own bucket instead for a backend with a
/// key, or the root key) and one from its voter's; a batch takes one per vote from each, all or nothing. Anonymous voter
/// ids take from the address's <c>NewVoters</c> bucket. A refusal says which bucket and when to retry.
/// </summary>
internal sealed class VoteLimits
{
    private readonly IRateLimiter _limiter;
    private readonly BucketKeys _buckets;
    private readonly TallyMetrics _metrics;
    private readonly bool _enabled;
    private readonly RateRule _ip;
    private readonly RateRule _voter;
    private readonly RateRule _key;
    private readonly RateRule _newVoters;
    private readonly RateRule _joinCodes;

    public VoteLimits(IRateLimiter limiter, IOptions<RateLimitOptions> options, BucketKeys buckets, TallyMetrics metrics)
    {
        _limiter = limiter;
        _buckets = buckets;
        _metrics = metrics;
        var settings = options.Value;
        _enabled = settings.Enabled;
        _ip = settings.EffectiveIp;
        _voter = settings.Voter;
        _key = settings.Key;
        _newVoters = settings.NewVoters;
        _joinCodes = settings.JoinCodes;
    }

    /// <summary>
    /// Takes the tokens of <paramref name="voters"/> (one per admitted vote: its poll's workspace and the voter it counts
    /// as, null for none): null when they fit, else the refusal (429 <c>rate-limited</c>) and nothing is taken.
    /// </summary>
    public async ValueTask<Rejection?> CheckVotesAsync(Visitor visitor, IReadOnlyList<(string Workspace, string? VoterId)> voters, CancellationToken cancellationToken)
    {
        if (!_enabled || voters.Count == 0)
        {
            return null;
        }

        var charges = new List<RateCharge>(2);
        var caller = visitor.Caller;
        if (caller.Kind == CallerKind.Root || caller.KeyId is not null)
        {
            if (_key.Enabled)
            {
                charges.Add(new RateCharge(RateSubject.Key, _buckets.Key(caller.KeyId ?? "root"), voters.Count, _key));
            }
        }
        else if (_ip.Enabled)
        {
            charges.Add(new RateCharge(RateSubject.Ip, ClientAddress.Key(visitor.Address), voters.Count, _ip));
        }

        if (_voter.Enabled)
        {
            AddVoters(charges, voters);
        }

        var refused = await ChargeAsync(charges, visitor.Report, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            _metrics.RecordRejected(RejectionKind.RateLimited, voters.Count);
        }

        return refused;
    }

    /// <summary>Takes a token of the address's <c>NewVoters</c> bucket for one anonymous voter id.</summary>
    public ValueTask<Rejection?> CheckNewVoterAsync(IPAddress? address, RateLimitReport? report, CancellationToken cancellationToken) =>
        !_enabled || !_newVoters.Enabled
            ? ValueTask.FromResult<Rejection?>(null)
            : ChargeAsync([new RateCharge(RateSubject.NewVoter, ClientAddress.Key(address), 1, _newVoters)], report, cancellationToken);

    /// <summary>Takes a token of the address's <c>JoinCodes</c> bucket for one join-code lookup or join.</summary>
    public ValueTask<Rejection?> CheckJoinAsync(IPAddress? address, RateLimitReport? report, CancellationToken cancellationToken) =>
        !_enabled || !_joinCodes.Enabled
            ? ValueTask.FromResult<Rejection?>(null)
            : ChargeAsync([new RateCharge(RateSubject.JoinCode, ClientAddress.Key(address), 1, _joinCodes)], report, cancellationToken);

    private void AddVoters(List<RateCharge> charges, IReadOnlyList<(string Workspace, string? VoterId)> voters)
    {
        if (voters.Count == 1)
        {
            if (voters[0].VoterId is { } only)
            {
                charges.Add(new RateCharge(RateSubject.Voter, _buckets.Voter(voters[0].Workspace, only), 1, _voter));
            }

            return;
        }

        var counts = new Dictionary<UInt128, int>();
        foreach (var (workspace, voterId) in voters)
        {
            if (voterId is not null)
            {
                var bucket = _buckets.Voter(workspace, voterId);
                counts[bucket] = counts.GetValueOrDefault(bucket) + 1;
            }
        }

        foreach (var (bucket, count) in counts)
        {
            charges.Add(new RateCharge(RateSubject.Voter, bucket, count, _voter));
        }
    }

    private async ValueTask<Rejection?> ChargeAsync(List<RateCharge> charges, RateLimitReport? report, CancellationToken cancellationToken)
    {
        if (charges.Count == 0)
        {
            return null;
        }

        foreach (var charge in charges)
        {
            if (charge.Count > charge.Rule.Burst)
            {
                report?.Write(charges, decision: null);
                _metrics.RecordLimitRefused(Name(charge.Subject));
                return new Rejection(RejectionKind.RateLimited,
                    $"This request carries {charge.Count.ToString("N0", CultureInfo.InvariantCulture)} {Unit(charge.Subject)} for one {Who(charge.Subject)}, and at most {charge.Rule.Burst.ToString("N0", CultureInfo.InvariantCulture)} fit at once. Send fewer at a time.")
                {
                    RetryAfterSeconds = (int)Math.Min(int.MaxValue, charge.Rule.WindowSeconds),
                };
            }
        }

        var decision = await _limiter.TakeAsync(charges.ToArray(), cancellationToken).ConfigureAwait(false);
        report?.Write(charges, decision);
        if (decision.Allowed)
        {
            return null;
        }

        var refused = charges[decision.RefusedAt];
        var seconds = (int)Math.Clamp(Math.Ceiling(decision.RetryAfter.TotalSeconds), 1, int.MaxValue);
        _metrics.RecordLimitRefused(Name(refused.Subject));
        return new Rejection(RejectionKind.RateLimited,
            $"One {Who(refused.Subject)} may send {refused.Rule.Burst.ToString("N0", CultureInfo.InvariantCulture)} {Unit(refused.Subject)} at once and {Rate(refused.Rule)} a second after that; retry in {seconds} s.")
        {
            RetryAfterSeconds = seconds,
        };
    }

    /// <summary>The bucket's name in <c>RateLimit</c> headers and in metrics.</summary>
    public static string Name(RateSubject subject) => subject switch
    {
        RateSubject.Ip => "ip",
        RateSubject.Voter => "voter",
        RateSubject.Key => "key",
        RateSubject.JoinCode => "join_code",
        _ => "new_voter",
    };

    private static string Who(RateSubject subject) => subject switch
    {
        RateSubject.Voter => "voter",
        RateSubject.Key => "API key",
        _ => "client address",
    };

    private static string Unit(RateSubject subject) => subject switch
    {
        RateSubject.NewVoter => "new voter ids",
        RateSubject.JoinCode => "join-code lookups and joins",
        _ => "votes",
    };

    private static string Rate(RateRule rule) => rule.Rate.ToString(rule.Rate >= 100 ? "N0" : "0.######", CultureInfo.InvariantCulture);
}
