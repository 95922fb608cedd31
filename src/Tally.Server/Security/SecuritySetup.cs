using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tally.Server.Hosting;

namespace Tally.Server.Security;

/// <summary>Registers the transport-level protections: Kestrel's limits, HSTS and the other security headers.</summary>
internal static class SecuritySetup
{
    public static IServiceCollection AddTallySecurity(this IServiceCollection services)
    {
        services.AddOptions<TlsOptions>().BindConfiguration("Tally:Tls")
            .Validate(o => o.HstsMaxAge >= TimeSpan.Zero, "Tally:Tls:HstsMaxAge must be 0 (no header) or more.")
            .ValidateOnStart();
        services.AddOptions<HttpLimitsOptions>().BindConfiguration("Tally:Http").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HttpLimitsOptions>, HttpLimitsValidation>());
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>, KestrelLimitsSetup>();
        services.TryAddSingleton<IFrameAncestors, NoFrameAncestors>();
        return services;
    }

    /// <summary>First in the pipeline, so that every response, errors included, gets the headers.</summary>
    public static WebApplication UseTallySecurityHeaders(this WebApplication app)
    {
        app.UseMiddleware<SecurityHeadersMiddleware>();
        if (app.Services.GetRequiredService<ServerListeners>().Certificate is { } tls)
        {
            var certificate = tls.Certificate;
            var logger = app.Services.GetRequiredService<ILogger<ServerCertificate>>();
            SecurityLog.Certificate(logger, certificate.Subject, certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), certificate.NotAfter.ToUniversalTime(), tls.Chain.Count);
            var now = DateTime.Now;
            if (now < certificate.NotBefore || now > certificate.NotAfter)
            {
                SecurityLog.CertificateNotValidNow(logger, certificate.Subject, certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime());
            }
        }

        return app;
    }
}
