using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Tally.Server.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tally.Access;

namespace Tally.Server.Access;

/// <summary>Registers credentials, voter identities and the admission path.</summary>
internal static class AccessSetup
{
    /// <summary>The JwtBearer scheme management requests authenticate JWTs through; its token handler is <see cref="TokenValidator"/>.</summary>
    public const string JwtScheme = "Tally.Jwt";

    public static void AddTallyAccess(this IServiceCollection services)
    {
        services.AddOptions<AccessOptions>().BindConfiguration("Tally:Access").ValidateOnStart();
        services.AddSingleton<IValidateOptions<AccessOptions>, AccessOptionsValidator>();
        services.AddOptions<CompatibilityOptions>().BindConfiguration("Tally:Compatibility");

        // Embedded mode's SQLite and cluster mode's PostgreSQL register their stores; this one is for hosts without either.
        services.TryAddSingleton<IAccessStore, InMemoryAccessStore>();
        services.AddSingleton<AccessDirectory>();
        services.AddSingleton<ServerKeys>();
        services.AddSingleton<TallyTokens>();
        services.AddSingleton<InviteCodes>();
        services.AddSingleton<JoinCodes>();
        services.AddSingleton<JwksKeys>();
        services.AddSingleton<TokenValidator>();
        services.AddSingleton<Authenticator>();
        services.AddSingleton<VoterIdentities>();
        services.AddSingleton<OriginPolicy>();
        services.AddSingleton<VoteAdmission>();
        services.AddSingleton<ReadAdmission>();
        services.AddSingleton(sp => new SocketAdmission(sp.GetRequiredService<VoteAdmission>(), sp.GetRequiredService<ReadAdmission>(), sp.GetRequiredService<Authenticator>(), sp.GetRequiredService<StreamGuard>(),
            sp.GetRequiredService<Tally.Engine.ITallyEngine>(), sp.GetRequiredService<VoterIdentities>()));
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<StreamGuard>();
        services.AddSingleton<WorkspaceWebPolicy>();
        services.AddCors();
        services.AddSingleton<ICorsPolicyProvider>(sp => sp.GetRequiredService<WorkspaceWebPolicy>());
        services.AddSingleton<IFrameAncestors>(sp => sp.GetRequiredService<WorkspaceWebPolicy>()); // replaces the default (none)
        services.AddHostedService<AccessHostedService>();

        // No default scheme (not even the lone one, which ASP.NET Core would otherwise make the default): the
        // authentication middleware then leaves requests alone, and a JWT is validated only where Tally asks for it,
        // through its cache (Authenticator). With the default, every request carrying a bearer token had it validated
        // again, signature included, before the endpoint ran: 18% of the server's CPU on cached voter-token votes
        // (bench/auth.sh, perf).
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        services.AddAuthentication().AddJwtBearer(JwtScheme);
        services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>>(sp => new PostConfigureOptions<JwtBearerOptions>(JwtScheme, o =>
        {
            o.MapInboundClaims = false;
            o.TokenHandlers.Clear();
            o.TokenHandlers.Add(sp.GetRequiredService<TokenValidator>());
        }));
    }
}
