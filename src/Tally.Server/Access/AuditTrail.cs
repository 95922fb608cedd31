using Tally.Access;

namespace Tally.Server.Access;

/// <summary>
/// Records management actions in the workspace's audit log (and the server log), after they took effect. A failure
/// to record is logged, not thrown: the action happened, and saying it failed would make a client retry it.
/// </summary>
internal sealed class AuditTrail(AccessDirectory directory, TimeProvider time, ILogger<AuditTrail> logger)
{
    public async Task RecordAsync(Caller caller, string workspace, string action, string? target, string? detail = null)
    {
        AccessLog.Audited(logger, caller.Actor, action, target, workspace);
        try
        {
            await directory.Store.AppendAuditAsync(new AuditEntry(0, workspace, time.GetUtcNow(), caller.Actor, action, target, detail), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            AccessLog.AuditFailed(logger, action, target, caller.Actor, ex.Message);
        }
    }
}
