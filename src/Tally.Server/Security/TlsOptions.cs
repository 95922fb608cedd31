namespace Tally.Server.Security;

/// <summary>
/// Settings of responses over TLS (section <c>Tally:Tls</c>). The certificate itself comes from
/// <c>TALLY_TLS_CERT</c> and <c>TALLY_TLS_KEY</c> (see <see cref="Hosting.ServerCertificate"/>).
/// </summary>
public sealed class TlsOptions
{
    /// <summary>
    /// The <c>max-age</c> of the <c>Strict-Transport-Security</c> header on every response over TLS (never on
    /// cleartext ones): how long browsers use only HTTPS for this host. Zero sends no header. Default 365 days.
    /// </summary>
    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(365);
}
