using Tally.Access;

namespace Tally.Server.Contracts;

/// <summary>Workspaces, keys and audit entries → wire shapes. Secrets never leave: a key's hash, a workspace's HMAC secret.</summary>
internal static class AccessMapping
{
    public static WorkspaceResponse ToResponse(this Workspace w) => new(w.Id, w.Name, w.CreatedAt, new WorkspaceSettingsResponse(
        w.Settings.Jwt is { } jwt ? new JwtSettingsResponse(jwt.Issuer, jwt.Audience, jwt.HmacSecret is not null, jwt.JwksUrl) : null,
        w.Settings.AllowedOrigins,
        w.Settings.Embedders,
        w.Settings.BlockedTerms ?? []));

    public static ApiKeyResponse ToResponse(this ApiKey k) =>
        new(k.Id, k.Workspace, k.Name, ScopeNames.Format(k.Scopes), k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt, k.CreatedBy);

    public static AuditEntryResponse ToResponse(this AuditEntry e) => new(e.Id, e.At, e.Actor, e.Action, e.Target, e.Detail);
}
