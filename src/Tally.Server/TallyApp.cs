using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tally.Engine;
using Tally.Live;
using Tally.Metrics;
using Tally.Server.Access;
using Tally.Server.Transports.Grpc;
using Tally.Server.Transports.Sse;
using Tally.Server.Transports.WebSockets;
using Tally.Server.Contracts;
using Tally.Server.Endpoints;
using Tally.Server.Hosting;
using Tally.Server.Http;
using Tally.Server.Limits;
using Tally.Server.Observability;
using Tally.Server.Security;
using Tally.Server.Webhooks;
using Tally.Storage;
using Tally.Storage.Sqlite;

namespace Tally.Server;

/// <summary>Builds the server: used by <c>Program</c> and by the functional tests (which pass their own services).</summary>
public static class TallyApp
{
    public const string DefaultUrl = "http://localhost:8080";

    /// <summary>Embedded mode: the engine in this process over the SQLite log and snapshots in the data folder.</summary>
    private static void AddEmbedded(IServiceCollection services)
    {
        services.AddTallySqlite();
        services.AddSingleton<IPostConfigureOptions<SqliteStorageOptions>>(sp =>
            new PostConfigureOptions<SqliteStorageOptions>(null, o => o.DataPath = TallyServerOptions.DataPathIn(sp.GetRequiredService<IConfiguration>())));
        services.AddSingleton(sp => new TallyEngine(
            sp.GetRequiredService<IEventLog>(),
            sp.GetRequiredService<ISnapshotStore>(),
            sp.GetRequiredService<IOptions<TallyEngineOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<TallyMetrics>()));
        services.AddSingleton<ITallyEngine>(sp => sp.GetRequiredService<TallyEngine>());
        services.AddHealthChecks().AddCheck<EventLogHealthCheck>("eventLog", timeout: TimeSpan.FromSeconds(2));
    }

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Globalization is on (for ICU's Unicode normalization of voter ids), but nothing the server writes may
        // depend on the host's locale: numbers, dates and messages are formatted the same on every machine.
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;

        // The content root is the app's folder, so appsettings.json is found wherever the server is started
        // from; relative paths (TALLY_DATA's ./data) stay relative to the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        // Listens on the main URLs (default DefaultUrl, or https://localhost:8443 with TALLY_TLS_CERT) and on
        // TALLY_GRPC_URLS (HTTP/2 only); https URLs use the TALLY_TLS_CERT certificate.
        builder.AddGrpcTransport(DefaultUrl);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = TallyServerOptions.MaxRequestBodyBytes;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddTallySecurity(); // Kestrel's limits (Tally:Http), HSTS (Tally:Tls), security headers

        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, TallyJsonContext.Default);
            o.SerializerOptions.PropertyNameCaseInsensitive = false; // as TallyJsonContext: field names are exact (the web defaults turn this on)
        });
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.DescribeFrameworkProblem);
        builder.Services.AddOpenApi(o => o.AddAccessDocs()); // security schemes and what each operation takes
        builder.Services.AddTallyResponseCompression();
        builder.AddTallyTelemetry();

        builder.Services.AddOptions<TallyServerOptions>().BindConfiguration("Tally").ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TallyServerOptions>, TallyServerOptionsValidation>());
        builder.Services.AddSingleton<AdminKeySetup>();
        builder.Services.AddSingleton<IPostConfigureOptions<TallyServerOptions>>(sp => sp.GetRequiredService<AdminKeySetup>());
        builder.Services.AddOptions<TallyEngineOptions>().BindConfiguration("Tally:Engine").ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TallyEngineOptions>, TallyEngineOptionsValidation>());

        builder.Services.AddSingleton(TimeProvider.System);
        switch (builder.Configuration["Tally:Mode"]?.ToLowerInvariant())
        {
            case null or "" or "embedded":
                AddEmbedded(builder.Services);
                break;
            case "cluster":
                if (string.IsNullOrEmpty(builder.Configuration["TALLY_ADMIN_KEY"]) && string.IsNullOrEmpty(builder.Configuration["Tally:AdminKey"]))
                {
                    // A generated key would differ from node to node.
                    throw new InvalidOperationException("Cluster mode needs the admin key set (TALLY_ADMIN_KEY), the same on every node.");
                }

                builder.Services.AddTallyCluster();
                break;
            default:
                throw new InvalidOperationException($"Tally:Mode is \"embedded\" (the default) or \"cluster\", not \"{builder.Configuration["Tally:Mode"]}\".");
        }

        builder.Services.AddTallyLimits(); // rate limits (after the mode: cluster mode keeps its buckets in Redis), caps per address, trusted proxies
        builder.Services.AddTallyAccess();
        builder.Services.AddOptions<LiveOptions>().BindConfiguration("Tally:Live").ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LiveOptions>, LiveOptionsValidation>());
        builder.Services.AddSingleton(sp =>
        {
            var engine = sp.GetRequiredService<ITallyEngine>();
            var hub = new LiveHub(
                engine.Catalog,
                sp.GetRequiredService<IOptions<LiveOptions>>().Value,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<TallyMetrics>());
            (engine as ILiveHubAware)?.AttachHub(hub); // e.g. a cluster node follows a poll's live updates while its hub streams the poll

            return hub;
        });
        builder.Services.AddWebSocketTransport();
        builder.Services.AddHostedService<LiveHostedService>(); // before the engine: the hub sees recovery's results
        builder.Services.AddHostedService<EngineHostedService>();
        builder.Services.AddTallyWebhooks(); // after the engine: delivery reads polls

        configure?.Invoke(builder);

        var app = builder.Build();

        // Every setting bound with ValidateOnStart is checked now, all together, so that a bad configuration is reported
        // whole. The host checks them again at start, but only after it has made its hosted services, and the first of
        // those that reads a bad setting would report just its own.
        app.Services.GetService<IStartupValidator>()?.Validate();
        app.UseTallySecurityHeaders();
        app.UseTallyForwardedHeaders(); // X-Forwarded-For from Tally:Proxies:Trusted only (default: loopback)
        app.UseTallyResponseCompression();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RetryAfterMiddleware>();
        app.UseCors(); // per workspace: WorkspaceWebPolicy
        app.MapOpenApi();
        app.MapHomeEndpoints();
        app.MapHealthEndpoints();
        app.MapTallyMetrics();
        app.MapPollEndpoints();
        app.MapExportEndpoints();
        app.MapErasureEndpoints();
        app.MapEventEndpoints();
        app.MapTextEndpoints();
        app.MapQuestionEndpoints();
        app.MapVerifyEndpoints();
        app.MapVoteEndpoints();
        app.MapWorkspaceEndpoints();
        app.MapKeyEndpoints();
        app.MapWebhookEndpoints();
        app.MapVoterEndpoints();
        app.MapSseEndpoints();
        app.MapWebSocketEndpoints();
        app.MapGrpcTransport();
        app.UseResultsPage();
        return app;
    }
}
