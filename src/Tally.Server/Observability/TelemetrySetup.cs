using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Tally.Metrics;

namespace Tally.Server.Observability;

/// <summary>
/// OpenTelemetry: the <c>Tally</c> meter, ASP.NET Core's and the runtime's metrics, scraped at <c>GET /metrics</c>
/// (Prometheus text format). Only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set are metrics also pushed over OTLP
/// and requests traced: without it no Activity is made per request, so an idle WebSocket or SSE watcher holds none.
/// </summary>
internal static class TelemetrySetup
{
    public const string MetricsPath = "/metrics";

    /// <summary>The setting (an environment variable) that turns OTLP export and tracing on.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static void AddTallyTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddMetrics(); // IMeterFactory: the host's meters are its own (see the view below)
        builder.Services.AddSingleton(sp => new TallyMetrics(sp.GetRequiredService<IMeterFactory>()));
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointKey]);

        var telemetry = builder.Services.AddOpenTelemetry();
        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(TallyMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter(o =>
                {
                    o.ScrapeEndpointPath = MetricsPath;
                    o.ScrapeResponseCacheDurationMilliseconds = 0; // every scrape collects: Prometheus scrapes every few seconds at most
                });
            ((IDeferredMeterProviderBuilder)metrics).Configure((sp, b) =>
            {
                // Meters made by another host's factory in this process (tests run several servers) are not ours to report.
                var own = sp.GetRequiredService<IMeterFactory>();
                b.AddView(instrument => instrument.Meter.Scope is IMeterFactory factory && !ReferenceEquals(factory, own) ? MetricStreamConfiguration.Drop : null);
            });
            if (otlp)
            {
                metrics.AddOtlpExporter();
            }
        });

        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddOtlpExporter());
        }
    }

    /// <summary>Maps <c>GET /metrics</c> (public; left out of the OpenAPI document, which describes the polling API).</summary>
    public static void MapTallyMetrics(this WebApplication app) =>
        app.MapPrometheusScrapingEndpoint(MetricsPath).ExcludeFromDescription();
}
