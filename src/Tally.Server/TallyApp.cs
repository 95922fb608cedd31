using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;
using Tally.Engine;
using Tally.Live;
using Tally.Server.Transports.Grpc;
using Tally.Server.Transports.Sse;
using Tally.Server.Transports.WebSockets;
using Tally.Server.Contracts;
using Tally.Server.Endpoints;
using Tally.Server.Hosting;
using Tally.Server.Http;
using Tally.Storage;
using Tally.Storage.Sqlite;

namespace Tally.Server;

/// <summary>Builds the server: used by <c>Program</c> and by the functional tests (which pass their own services).</summary>
public static class TallyApp
{
    public const string DefaultUrl = "http://localhost:8080";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // The content root is the app's folder, so appsettings.json is found wherever the server is started
        // from; relative paths (TALLY_DATA's ./data) stay relative to the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.AddGrpcTransport(DefaultUrl); // listens on the main URLs and on TALLY_GRPC_URLS (HTTP/2 only)

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 8 * 1024 * 1024;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, TallyJsonContext.Default));
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.DescribeFrameworkProblem);
        builder.Services.AddOpenApi();
        builder.Services.AddTallyResponseCompression();

        builder.Services.AddOptions<TallyServerOptions>().BindConfiguration("Tally")
            .Validate(o => o.MaxBodyBytes > 0 && o.MaxBatchBodyBytes > 0 && o.MaxBatchVotes > 0, "Tally body and batch limits must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<AdminKeySetup>();
        builder.Services.AddSingleton<IPostConfigureOptions<TallyServerOptions>>(sp => sp.GetRequiredService<AdminKeySetup>());
        builder.Services.AddOptions<TallyEngineOptions>().BindConfiguration("Tally:Engine")
            .Validate(o => { o.Validate(); return true; })
            .ValidateOnStart();

        builder.Services.AddTallySqlite();
        builder.Services.AddSingleton<IPostConfigureOptions<SqliteStorageOptions>>(sp =>
            new PostConfigureOptions<SqliteStorageOptions>(null, o => o.DataPath = sp.GetRequiredService<IOptions<TallyServerOptions>>().Value.DataPath));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new TallyEngine(
            sp.GetRequiredService<IEventLog>(),
            sp.GetRequiredService<ISnapshotStore>(),
            sp.GetRequiredService<IOptions<TallyEngineOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddOptions<LiveOptions>().BindConfiguration("Tally:Live")
            .Validate(o => { o.Validate(); return true; })
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => new LiveHub(
            sp.GetRequiredService<TallyEngine>().Catalog,
            sp.GetRequiredService<IOptions<LiveOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddWebSocketTransport();
        builder.Services.AddHostedService<LiveHostedService>(); // before the engine: the hub sees recovery's results
        builder.Services.AddHostedService<EngineHostedService>();

        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseTallyResponseCompression();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RetryAfterMiddleware>();
        app.MapOpenApi();
        app.MapHomeEndpoints();
        app.MapHealthEndpoints();
        app.MapPollEndpoints();
        app.MapVoteEndpoints();
        app.MapSseEndpoints();
        app.MapWebSocketEndpoints();
        app.MapGrpcTransport();
        app.UseResultsPage();
        return app;
    }
}
