using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Tally.Limits;
using Tally.Polls;

namespace Tally.Server.Http;

/// <summary>
/// The vote rate limit (<c>Tally:RateLimit</c>) as every transport applies it: per client IP address (behind a
/// proxy on this host, the address it forwards in <c>X-Forwarded-For</c>), a batch counting each of its votes.
/// </summary>
internal sealed class VoteLimits(IVoteRateLimiter limiter, IOptions<RateLimitOptions> options, Metrics.TallyMetrics metrics)
{
    /// <summary>Null when the client may cast <paramref name="votes"/> now, else the refusal and when to retry.</summary>
    public async ValueTask<RateLimited?> CheckAsync(IPAddress? address, int votes, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return null;
        }

        var client = address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
        if (await limiter.TryTakeAsync(client, votes, cancellationToken).ConfigureAwait(false) is not { } wait)
        {
            return null;
        }

        metrics.RecordRejected(RejectionKind.RateLimited, votes);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        var detail = votes > settings.Votes
            ? $"This request carries {votes} votes; one client may cast at most {settings.Votes} per {Describe(settings.Window)}. Send fewer at a time."
            : $"One client may cast at most {settings.Votes} votes per {Describe(settings.Window)}; retry in {seconds} s.";
        return new RateLimited(new Rejection(RejectionKind.RateLimited, detail) { RetryAfterSeconds = seconds }, seconds);
    }

    private static string Describe(TimeSpan window) =>
        window.TotalSeconds >= 1 && window.TotalSeconds == Math.Floor(window.TotalSeconds)
            ? window.TotalSeconds.ToString(CultureInfo.InvariantCulture) + " s"
            : window.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + " ms";
}

/// <summary>A vote refused by the rate limit, and the seconds after which the client may try again.</summary>
internal sealed record RateLimited(Rejection Rejection, int RetryAfterSeconds)
{
    /// <summary>Sets <c>Retry-After</c> and answers the problem (429 <c>rate-limited</c>).</summary>
    public Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult ToProblem(HttpResponse response)
    {
        response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Problems.From(Rejection);
    }
}

/// <summary>Embedded mode's limiter: a fixed window per client in memory (System.Threading.RateLimiting).</summary>
internal sealed class InMemoryVoteRateLimiter : IVoteRateLimiter, IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly RateLimitOptions _options;

    public InMemoryVoteRateLimiter(IOptions<RateLimitOptions> options)
    {
        _options = options.Value;
        var window = new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, _options.Votes),
            Window = _options.Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        _limiter = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetFixedWindowLimiter(client, _ => window));
    }

    public ValueTask<TimeSpan?> TryTakeAsync(string client, int votes, CancellationToken cancellationToken)
    {
        if (votes > _options.Votes)
        {
            return ValueTask.FromResult<TimeSpan?>(_options.Window); // more than a whole window allows: never
        }

        using var lease = _limiter.AttemptAcquire(client, votes);
        if (lease.IsAcquired)
        {
            return ValueTask.FromResult<TimeSpan?>(null);
        }

        return ValueTask.FromResult<TimeSpan?>(lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : _options.Window);
    }

    public void Dispose() => _limiter.Dispose();
}
