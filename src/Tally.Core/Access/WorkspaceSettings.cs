namespace Tally.Access;

/// <summary>What a workspace trusts beyond its API keys.</summary>
/// <param name="Jwt">The issuer of the JWTs (voter tokens, management tokens) the workspace accepts; null accepts none.</param>
/// <param name="AllowedOrigins">Browser origins (<c>https://app.example.com</c>) that may call the API and open WebSockets for its polls.</param>
/// <param name="Embedders">Origins that may frame its polls' pages (CSP <c>frame-ancestors</c>).</param>
/// <param name="BlockedTerms">Terms its text polls' word clouds never count (normalised as answers' terms are); null reads as none.</param>
public sealed record WorkspaceSettings(JwtSettings? Jwt, IReadOnlyList<string> AllowedOrigins, IReadOnlyList<string> Embedders, IReadOnlyList<string>? BlockedTerms = null)
{
    public static WorkspaceSettings Empty { get; } = new(null, [], []);
}
