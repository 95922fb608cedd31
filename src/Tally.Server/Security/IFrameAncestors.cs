namespace Tally.Server.Security;

/// <summary>
/// Which other origins may show Tally's pages in a frame: the <c>frame-ancestors</c> of their
/// <c>Content-Security-Policy</c>, besides the server's own origin (<c>'self'</c>). Replace the service to
/// let embedders in (e.g. per workspace); the default lets none.
/// </summary>
public interface IFrameAncestors
{
    /// <summary>
    /// Origins such as <c>https://app.example.com</c> (scheme, host and optional port), asked once per page
    /// response. A value that is not such an origin is left out of the policy and logged.
    /// </summary>
    ValueTask<IReadOnlyList<string>> GetAsync(HttpContext context);
}
