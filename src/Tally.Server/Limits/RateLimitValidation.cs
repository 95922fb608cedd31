using Microsoft.Extensions.Options;
using Tally.Limits;

namespace Tally.Server.Limits;

/// <summary>Checks <see cref="RateLimitOptions"/> and returns every failure at once, each naming its setting.</summary>
internal sealed class RateLimitValidation : IValidateOptions<RateLimitOptions>
{
    /// <summary>Slowest refill: a token in about 11.6 days (the older Votes per Window of a day can be slower than a token a second).</summary>
    public const double MinRate = 0.000001;

    /// <summary>
    /// Longest time an empty bucket may take to fill (Burst / Rate): a year, which keeps a bucket's time stamp far from
    /// overflowing, in ticks here and in Redis's microseconds (exact in Lua's doubles below 2^53).
    /// </summary>
    public static readonly TimeSpan MaxFill = TimeSpan.FromDays(365);

    public const double MaxRate = 10_000_000;

    public const int MaxBurst = 10_000_000;

    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>();
        Rule(options.Ip, "Ip", failures);
        Rule(options.Voter, "Voter", failures);
        Rule(options.Key, "Key", failures);
        Rule(options.NewVoters, "NewVoters", failures);
        Rule(options.JoinCodes, "JoinCodes", failures);
        if (options.Votes is < 0 or > MaxBurst)
        {
            failures.Add($"Tally:RateLimit:Votes must be 0 (no limit per address) to {MaxBurst:N0}.");
        }

        if (options.Window < TimeSpan.FromMilliseconds(10) || options.Window > TimeSpan.FromDays(1))
        {
            failures.Add("Tally:RateLimit:Window must be from 10 ms to 1 day.");
        }
        else if (options.Votes is > 0 and var votes && votes / options.Window.TotalSeconds is < MinRate or > MaxRate)
        {
            failures.Add($"Tally:RateLimit:Votes per Tally:RateLimit:Window must come to 0.000001 to {MaxRate:N0} votes a second.");
        }

        if (options.MaxBuckets is < 1_000 or > 100_000_000)
        {
            failures.Add("Tally:RateLimit:MaxBuckets must be from 1,000 to 100,000,000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Rule(RateRule? rule, string setting, List<string> failures)
    {
        if (rule is null)
        {
            failures.Add($"Tally:RateLimit:{setting} needs Rate and Burst.");
            return;
        }

        if (!double.IsFinite(rule.Rate) || rule.Rate < 0 || (rule.Rate > 0 && rule.Rate < MinRate) || rule.Rate > MaxRate)
        {
            failures.Add($"Tally:RateLimit:{setting}:Rate must be 0 (off) or 0.000001 to {MaxRate:N0} a second.");
        }
        else if (rule.Rate > 0 && rule.Burst / rule.Rate > MaxFill.TotalSeconds)
        {
            failures.Add($"Tally:RateLimit:{setting}: an empty bucket must fill within a year (Burst / Rate at most {MaxFill.TotalSeconds:N0} s).");
        }

        if (rule.Rate != 0 && rule.Burst is < 1 or > MaxBurst)
        {
            failures.Add($"Tally:RateLimit:{setting}:Burst must be 1 to {MaxBurst:N0}.");
        }
    }
}
