using Microsoft.Extensions.Options;

namespace Tally.Server.Access;

/// <summary>Settings of credentials and voter identities (section <c>Tally:Access</c>).</summary>
public sealed class AccessOptions
{
    /// <summary>
    /// How often each node reads the access store's version to see whether a key, a workspace's JWT settings or
    /// its origins changed (a revoked key stops working on every node within this, plus one read). Default 0.5 s.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The audience JWTs of a workspace carry when its JWT settings name none. Default <c>tally</c>.</summary>
    public string DefaultAudience { get; set; } = "tally";

    /// <summary>How far a JWT's <c>exp</c> and <c>nbf</c> may be off the server's clock. Default 30 s.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A voter token (or any JWT) may live at most this long from its <c>iat</c>/<c>nbf</c> to its <c>exp</c>. Default 24 h.</summary>
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Validated tokens kept (each until its expiry), so a token's signature is checked once. Default 100,000.</summary>
    public int TokenCacheSize { get; set; } = 100_000;

    /// <summary>Whether JWKS URLs must be https (true by default; tests on loopback turn it off).</summary>
    public bool JwksRequireHttps { get; set; } = true;

    /// <summary>How long fetched JWKS keys are used before they are fetched again (an unknown <c>kid</c> fetches sooner). Default 1 h.</summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A token under an unknown <c>kid</c> fetches its issuer's JWKS again, at most this often per issuer. Default 30 s.</summary>
    public TimeSpan JwksMinimumRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Lifetime of the anonymous voter ids Tally issues (cookie and token). Default 365 days.</summary>
    public TimeSpan AnonymousVoterLifetime { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Longest lifetime of a watch token for a private poll. Default 24 h; 1 h when a request names none.</summary>
    public TimeSpan MaxWatchTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Most invite codes one request may mint. Default 1,000.</summary>
    public int MaxInvitesPerRequest { get; set; } = 1_000;
}

/// <summary>Checks <see cref="AccessOptions"/> at start and reports every bad setting at once.</summary>
internal sealed class AccessOptionsValidator : IValidateOptions<AccessOptions>
{
    public ValidateOptionsResult Validate(string? name, AccessOptions options)
    {
        var failures = new List<string>();
        if (options.RefreshInterval < TimeSpan.FromMilliseconds(50) || options.RefreshInterval > TimeSpan.FromSeconds(1))
        {
            failures.Add("Tally:Access:RefreshInterval is from 50 ms to 1 s (revocations must reach every node within a second).");
        }

        if (string.IsNullOrWhiteSpace(options.DefaultAudience))
        {
            failures.Add("Tally:Access:DefaultAudience must not be empty.");
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
        {
            failures.Add("Tally:Access:ClockSkew is from 0 to 5 minutes.");
        }

        if (options.MaxTokenLifetime < TimeSpan.FromMinutes(1))
        {
            failures.Add("Tally:Access:MaxTokenLifetime is at least 1 minute.");
        }

        if (options.TokenCacheSize < 0)
        {
            failures.Add("Tally:Access:TokenCacheSize must not be negative.");
        }

        if (options.JwksRefreshInterval < TimeSpan.FromMinutes(1))
        {
            failures.Add("Tally:Access:JwksRefreshInterval is at least 1 minute.");
        }

        if (options.JwksMinimumRefreshInterval < TimeSpan.FromSeconds(1) || options.JwksMinimumRefreshInterval > options.JwksRefreshInterval)
        {
            failures.Add("Tally:Access:JwksMinimumRefreshInterval is from 1 s to JwksRefreshInterval.");
        }

        if (options.AnonymousVoterLifetime < TimeSpan.FromMinutes(1))
        {
            failures.Add("Tally:Access:AnonymousVoterLifetime is at least 1 minute.");
        }

        if (options.MaxWatchTokenLifetime < TimeSpan.FromMinutes(1))
        {
            failures.Add("Tally:Access:MaxWatchTokenLifetime is at least 1 minute.");
        }

        if (options.MaxInvitesPerRequest is < 1 or > 100_000)
        {
            failures.Add("Tally:Access:MaxInvitesPerRequest is from 1 to 100,000.");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
