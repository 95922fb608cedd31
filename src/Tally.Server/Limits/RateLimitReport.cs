using System.Globalization;
using System.Text;
using Tally.Limits;

namespace Tally.Server.Limits;

/// <summary>
/// Tells an HTTP client where it stands, in the fields of draft-ietf-httpapi-ratelimit-headers-11 (structured-field
/// lists, one item per bucket the request took from, named <c>"ip"</c>, <c>"key"</c>, <c>"voter"</c> or
/// <c>"new_voter"</c>):
/// <c>RateLimit-Policy: "ip";q=5000;w=10</c> — the bucket's size (<c>q</c>) and the seconds an empty one takes to fill
/// (<c>w</c>); and <c>RateLimit: "ip";r=4999;t=1</c> — the tokens left (<c>r</c>) and the seconds until it is full again
/// (<c>t</c>). For a batch's voters, the item is the voter with the fewest tokens left. Written on the response before
/// it starts, on success and on 429 alike (which also gets <c>Retry-After</c>).
/// </summary>
internal sealed class RateLimitReport(HttpResponse response)
{
    public const string PolicyHeader = "RateLimit-Policy";
    public const string Header = "RateLimit";

    /// <summary>Writes both fields for <paramref name="charges"/>; <paramref name="decision"/> is null when a charge could never fit (only the policy is written).</summary>
    public void Write(IReadOnlyList<RateCharge> charges, RateDecision? decision)
    {
        if (response.HasStarted || charges.Count == 0)
        {
            return;
        }

        var policy = new StringBuilder();
        var current = new StringBuilder();
        Span<bool> seen = stackalloc bool[Enum.GetValues<RateSubject>().Length];
        foreach (var charge in charges)
        {
            var subject = (int)charge.Subject;
            if (seen[subject])
            {
                continue;
            }

            seen[subject] = true;
            var name = VoteLimits.Name(charge.Subject);
            var rule = charge.Rule;
            policy.Append(policy.Length == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"\"{name}\";q={rule.Burst};w={rule.WindowSeconds}");
            if (decision is not null)
            {
                // The tightest of this subject's buckets: the fewest tokens left, the longest to fill.
                var remaining = long.MaxValue;
                var full = TimeSpan.Zero;
                for (var i = 0; i < charges.Count; i++)
                {
                    if (charges[i].Subject == charge.Subject)
                    {
                        remaining = Math.Min(remaining, decision.Standings[i].Remaining);
                        full = decision.Standings[i].FullIn > full ? decision.Standings[i].FullIn : full;
                    }
                }

                current.Append(current.Length == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"\"{name}\";r={remaining};t={(long)Math.Ceiling(full.TotalSeconds)}");
            }
        }

        response.Headers[PolicyHeader] = policy.ToString();
        if (current.Length > 0)
        {
            response.Headers[Header] = current.ToString();
        }
    }
}
