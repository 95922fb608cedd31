namespace Tally.Server.Security;

/// <summary>The default <see cref="IFrameAncestors"/>: only the server's own origin may frame its pages.</summary>
internal sealed class NoFrameAncestors : IFrameAncestors
{
    private static readonly IReadOnlyList<string> None = [];

    public ValueTask<IReadOnlyList<string>> GetAsync(HttpContext context) => ValueTask.FromResult(None);
}
