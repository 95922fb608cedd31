using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tally.Limits;

namespace Tally.Server.Limits;

/// <summary>
/// Registers the abuse limits: the rate limits (<c>Tally:RateLimit</c>; embedded mode's buckets in memory unless a mode
/// registered its own <see cref="IRateLimiter"/>, as cluster mode does with Redis), the caps per address
/// (<c>Tally:Connections</c>) and the trusted proxies (<c>Tally:Proxies</c>). Every setting is checked at start.
/// </summary>
internal static class LimitsSetup
{
    public static IServiceCollection AddTallyLimits(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration("Tally:RateLimit").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RateLimitOptions>, RateLimitValidation>());
        services.AddOptions<ConnectionLimitOptions>().BindConfiguration("Tally:Connections").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConnectionLimitOptions>, ConnectionLimitValidation>());
        services.AddOptions<ProxyOptions>().ValidateOnStart();
        services.AddSingleton<IConfigureOptions<ProxyOptions>, ProxySetup>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProxyOptions>, ProxyValidation>());

        services.AddSingleton<TrustedProxies>();
        services.AddSingleton<IConfigureOptions<ForwardedHeadersOptions>>(sp => sp.GetRequiredService<TrustedProxies>());
        services.TryAddSingleton<IRateLimiter>(sp => new InMemoryRateLimiter(
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<RateLimitOptions>>().Value.MaxBuckets));
        services.AddSingleton<BucketKeys>();
        services.AddSingleton<VoteLimits>();
        services.AddSingleton<ConnectionLimits>();
        return services;
    }

    /// <summary>
    /// <c>X-Forwarded-For</c> from the trusted proxies only (the options <see cref="TrustedProxies"/> configures), and one
    /// log line with the limits in force.
    /// </summary>
    public static WebApplication UseTallyForwardedHeaders(this WebApplication app)
    {
        app.UseForwardedHeaders();

        // Once started: the settings have been checked by then (reading them here would throw the first bad one alone).
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Tally.Server.Limits");
            var limits = app.Services.GetRequiredService<IOptions<RateLimitOptions>>().Value;
            var proxies = app.Services.GetRequiredService<TrustedProxies>().Networks;
            var (cap, why) = app.Services.GetRequiredService<ConnectionLimits>().ConnectionCap;
            if (cap is { } most)
            {
                LimitsLog.ConnectionCap(logger, most, why);
            }
            else
            {
                LimitsLog.NoConnectionCap(logger, why);
            }

            if (!limits.Enabled)
            {
                LimitsLog.RateLimitsOff(logger);
                return;
            }

            if (limits.Votes is { } votes)
            {
                LimitsLog.LegacyVotesMapped(logger, votes, limits.Window, Describe(limits.EffectiveIp));
            }

            LimitsLog.Limits(logger, Describe(limits.EffectiveIp), Describe(limits.Voter), Describe(limits.Key), Describe(limits.NewVoters),
                proxies.Count == 0 ? "none" : string.Join(", ", proxies));
        });

        return app;
    }

    private static string Describe(RateRule rule) => rule.Enabled ? rule.ToString() : "off";
}
