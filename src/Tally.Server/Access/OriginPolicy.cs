using Tally.Access;
using Tally.Polls;

namespace Tally.Server.Access;

/// <summary>
/// Which browser origins may use a workspace's polls from another site: its <see cref="WorkspaceSettings.AllowedOrigins"/>.
/// The same list answers CORS (HTTP) and the WebSocket <c>Origin</c> check (cross-site WebSocket hijacking: a page on
/// another site cannot open a socket in a voter's browser and vote with the voter's cookie).
/// </summary>
internal sealed class OriginPolicy(AccessDirectory directory)
{
    /// <summary>True when pages of <paramref name="origin"/> may use <paramref name="workspace"/>'s polls.</summary>
    public async ValueTask<bool> AllowsAsync(string workspace, string origin, CancellationToken cancellationToken)
    {
        var found = await directory.FindWorkspaceAsync(workspace, cancellationToken).ConfigureAwait(false);
        return found is not null && Contains(found.Settings.AllowedOrigins, origin);
    }

    /// <summary>Null when <paramref name="origin"/> may use <paramref name="poll"/>, else the refusal.</summary>
    public async ValueTask<Rejection?> CheckAsync(PollDefinition poll, string? origin, CancellationToken cancellationToken) =>
        origin is null || await AllowsAsync(poll.Workspace, origin, cancellationToken).ConfigureAwait(false)
            ? null
            : new Rejection(RejectionKind.Forbidden, $"Pages of {Contracts.ContractMapping.Clip(origin)} may not use poll {poll.Id}: that origin is not in its workspace's allowedOrigins.");

    public static bool Contains(IReadOnlyList<string> origins, string origin)
    {
        foreach (var allowed in origins)
        {
            if (allowed == "*" || string.Equals(allowed, origin, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
