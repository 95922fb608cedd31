using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Tally.Server.Limits;

/// <summary>
/// Registers the abuse limits: for now the trusted proxies (<c>Tally:Proxies</c>), whose <c>X-Forwarded-For</c> alone
/// says who a client is. Every setting is checked at start.
/// </summary>
internal static class LimitsSetup
{
    public static IServiceCollection AddTallyLimits(this IServiceCollection services)
    {
        services.AddOptions<ProxyOptions>().ValidateOnStart();
        services.AddSingleton<IConfigureOptions<ProxyOptions>, ProxySetup>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProxyOptions>, ProxyValidation>());
        services.AddSingleton<TrustedProxies>();
        services.AddSingleton<IConfigureOptions<ForwardedHeadersOptions>>(sp => sp.GetRequiredService<TrustedProxies>());
        return services;
    }

    /// <summary><c>X-Forwarded-For</c> from the trusted proxies only (the options <see cref="TrustedProxies"/> configures).</summary>
    public static WebApplication UseTallyForwardedHeaders(this WebApplication app)
    {
        app.UseForwardedHeaders();
        return app;
    }
}
