namespace Tally.Server.Security;

/// <summary>Log messages of TLS and the security headers. EventIds are fixed and never reused.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Warning, Message = "Left the frame ancestor \"{Value}\" out of the Content-Security-Policy: it is not an origin such as https://app.example.com")]
    public static partial void FrameAncestorRefused(ILogger logger, string value);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "TLS certificate {Subject} (SHA-256 {Thumbprint}), valid until {NotAfter:u}, with {Intermediates} intermediate certificate(s)")]
    public static partial void Certificate(ILogger logger, string subject, string thumbprint, DateTime notAfter, int intermediates);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "The TLS certificate {Subject} is valid from {NotBefore:u} until {NotAfter:u}, not now: clients will refuse it")]
    public static partial void CertificateNotValidNow(ILogger logger, string subject, DateTime notBefore, DateTime notAfter);
}
