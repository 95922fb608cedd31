using System.Globalization;
using Tally.Access;

namespace Tally.Testing;

/// <summary>Workspaces, keys and audit entries for tests, and fingerprints to compare them by.</summary>
public static class TestAccess
{
    /// <summary>A time with milliseconds, in UTC: every store keeps it exactly.</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 11, 1, 12, 0, 0, 123, TimeSpan.Zero);

    public static JwtSettings Jwt(string issuer) => new(issuer, "tally-test", "0123456789abcdef0123456789abcdef", null);

    public static Workspace Workspace(string id, string? issuer = null, DateTimeOffset? createdAt = null) =>
        new(id, "Workspace " + id, createdAt ?? Epoch, issuer is null ? WorkspaceSettings.Empty : new WorkspaceSettings(Jwt(issuer), [], []));

    public static ApiKey Key(string id, string workspace, DateTimeOffset? createdAt = null, Scopes scopes = Scopes.PollsManage) =>
        new(id, workspace, "key " + id, scopes, Hash(id), createdAt ?? Epoch, null);

    public static AuditEntry Audit(string workspace, string action, DateTimeOffset? at = null) =>
        new(0, workspace, at ?? Epoch, "root", action, "target-" + action, null);

    /// <summary>A 32-byte SHA-256-sized value derived from <paramref name="seed"/>, every byte value likely.</summary>
    public static byte[] Hash(string seed) => System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed));

    // Records holding lists compare the lists by reference, so tests compare these strings instead; times show
    // their offset, so a time read back in another offset than UTC differs too.
    public static string Fingerprint(Workspace? w) => w is null ? "(none)" : string.Join(" | ",
        w.Id, w.Name, Time(w.CreatedAt), Fingerprint(w.Settings));

    public static string Fingerprint(WorkspaceSettings s) => string.Join(" | ",
        s.Jwt is { } j ? $"jwt({Text(j.Issuer)}, {Text(j.Audience)}, {Text(j.HmacSecret)}, {Text(j.JwksUrl)})" : "jwt(none)",
        List(s.AllowedOrigins), List(s.Embedders));

    public static string Fingerprint(ApiKey? k) => k is null ? "(none)" : string.Join(" | ",
        k.Id, k.Workspace, k.Name, k.Scopes, Convert.ToHexString(k.SecretHash), Time(k.CreatedAt), Time(k.ExpiresAt),
        Time(k.RevokedAt), Time(k.LastUsedAt), Text(k.CreatedBy));

    public static string Fingerprint(AuditEntry e) => string.Join(" | ",
        e.Id.ToString(CultureInfo.InvariantCulture), e.Workspace, Time(e.At), e.Actor, e.Action, Text(e.Target), Text(e.Detail));

    public static string Time(DateTimeOffset? at) => at is { } t ? t.ToString("O", CultureInfo.InvariantCulture) : "(null)";

    private static string Text(string? s) => s is null ? "(null)" : "\"" + s + "\"";

    private static string List(IReadOnlyList<string>? list) => list is null ? "(null list)" : "[" + string.Join(", ", list.Select(Text)) + "]";
}
