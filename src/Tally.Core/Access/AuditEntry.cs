namespace Tally.Access;

/// <summary>One management action: who did what to which thing, and when.</summary>
/// <param name="Id">Assigned by the store, increasing; 0 before it is stored.</param>
/// <param name="Actor">Who: <c>root</c>, <c>key:{id}</c>, or <c>jwt:{sub}</c>.</param>
/// <param name="Action">What, as <c>{thing}.{verb}</c>: <c>workspace.created</c>, <c>key.revoked</c>, <c>poll.closed</c>, …</param>
/// <param name="Target">The id of the thing acted on.</param>
/// <param name="Detail">A few words more (a key's name and scopes, a count), never a secret.</param>
public sealed record AuditEntry(long Id, string Workspace, DateTimeOffset At, string Actor, string Action, string? Target, string? Detail);
