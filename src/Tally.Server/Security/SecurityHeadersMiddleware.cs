using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Tally.Server.Security;

/// <summary>
/// Security headers, added as each response starts (so error responses get them too):
/// <list type="bullet">
/// <item><c>X-Content-Type-Options: nosniff</c> on every response;</item>
/// <item><c>Strict-Transport-Security</c> on every response over TLS, whatever the host (ASP.NET Core's
/// <c>UseHsts</c> skips localhost), never on cleartext ones;</item>
/// <item>on the pages and their assets (HTML, CSS, JavaScript responses): a strict <c>Content-Security-Policy</c>
/// and <c>Referrer-Policy: no-referrer</c>.</item>
/// </list>
/// </summary>
internal sealed partial class SecurityHeadersMiddleware
{
    /// <summary>
    /// The pages load their script, styles and data from the server alone and inline nothing. 'self' in
    /// <c>connect-src</c> also covers ws:/wss: to the same host in CSP Level 3 browsers (Chromium, Firefox,
    /// Safari 15.4+), should a page open a WebSocket; today the results page uses EventSource.
    /// </summary>
    public const string PolicyWithoutAncestors =
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

    /// <summary>
    /// No referrer: nothing on the server reads one, and a page's URL holds the poll id, which is all anyone
    /// needs to vote; no request from the pages then carries it anywhere.
    /// </summary>
    public const string ReferrerPolicy = "no-referrer";

    private readonly RequestDelegate _next;
    private readonly IFrameAncestors _frameAncestors;
    private readonly ILogger<SecurityHeadersMiddleware> _logger;
    private readonly string? _hsts;
    private readonly Func<object, Task> _onStarting;

    public SecurityHeadersMiddleware(RequestDelegate next, IFrameAncestors frameAncestors, IOptions<TlsOptions> tls, ILogger<SecurityHeadersMiddleware> logger)
    {
        _next = next;
        _frameAncestors = frameAncestors;
        _logger = logger;
        var maxAge = (long)tls.Value.HstsMaxAge.TotalSeconds;
        _hsts = maxAge > 0 ? $"max-age={maxAge}" : null;
        _onStarting = OnStartingAsync;
    }

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(_onStarting, context);
        return _next(context);
    }

    /// <summary>The responses the policy is for: documents, and the styles and scripts they load.</summary>
    internal static bool IsPageContent(string? contentType) =>
        contentType is not null
        && (contentType.StartsWith("text/html", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("text/css", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("text/javascript", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("application/javascript", StringComparison.OrdinalIgnoreCase));

    private Task OnStartingAsync(object state)
    {
        var context = (HttpContext)state;
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        if (_hsts is not null && context.Request.IsHttps)
        {
            headers.StrictTransportSecurity = _hsts;
        }

        if (!IsPageContent(context.Response.ContentType))
        {
            return Task.CompletedTask;
        }

        headers["Referrer-Policy"] = ReferrerPolicy;
        var ancestors = _frameAncestors.GetAsync(context);
        if (ancestors.IsCompletedSuccessfully)
        {
            headers.ContentSecurityPolicy = Policy(ancestors.Result);
            return Task.CompletedTask;
        }

        return SetPolicyAsync(headers, ancestors);
    }

    private async Task SetPolicyAsync(IHeaderDictionary headers, ValueTask<IReadOnlyList<string>> ancestors) =>
        headers.ContentSecurityPolicy = Policy(await ancestors.ConfigureAwait(false));

    private string Policy(IReadOnlyList<string> ancestors)
    {
        if (ancestors.Count == 0)
        {
            return PolicyWithoutAncestors;
        }

        var policy = new StringBuilder(PolicyWithoutAncestors, PolicyWithoutAncestors.Length + (ancestors.Count * 32));
        foreach (var ancestor in ancestors)
        {
            // A value goes into a header: anything but an origin could add directives (";") or break the header.
            var origin = ancestor?.TrimEnd('/');
            if (origin is null || !OriginPattern().IsMatch(origin))
            {
                SecurityLog.FrameAncestorRefused(_logger, ancestor ?? "(null)");
                continue;
            }

            policy.Append(' ').Append(origin);
        }

        return policy.ToString();
    }

    /// <summary>scheme://host[:port] with an http(s) scheme; the host may start with a <c>*.</c> wildcard or be an IPv6 literal.</summary>
    [GeneratedRegex(@"^https?://(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?\z", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OriginPattern();
}
