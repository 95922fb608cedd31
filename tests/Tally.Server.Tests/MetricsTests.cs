using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;

namespace Tally.Server.Tests;

/// <summary>
/// <c>GET /metrics</c> scraped over HTTP from the real server, and what telemetry costs by default. One class,
/// so its tests run one after the other: the OTLP test's tracer listens process-wide while its server runs.
/// </summary>
public sealed class MetricsTests
{
    private static double Value(string exposition, string name, params (string Key, string Value)[] labels) => PrometheusText.Value(exposition, name, labels);

    [Fact]
    public async Task Metrics_are_served_in_prometheus_text_format_with_the_tally_series()
    {
        await using var server = await TestServer.StartAsync();
        var poll = (string)(await server.Admin.CreatePollAsync(options: 3, dedupe: "voter"))["id"]!;
        for (var i = 0; i < 3; i++)
        {
            using var counted = await server.Client.VoteAsync(poll, [(i % 2) + 1], "v" + i);
            Assert.Equal(HttpStatusCode.Created, counted.StatusCode);
        }

        using (var again = await server.Client.VoteAsync(poll, [3], "v0"))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        using (var unknown = await server.Client.VoteAsync(poll, [9], "x"))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.StatusCode);
        }

        var sse = await SseClient.ConnectAsync(server.Client, $"/v1/polls/{poll}/events");
        Assert.Equal("snapshot", (await sse.NextAsync()).Name);
        var socket = await LiveSocket.ConnectAsync(server, LiveSocket.Json);
        await socket.SubscribeAsync(poll);
        await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot");
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var grpc = new GrpcWatcher(new Tally.V1.Live.LiveClient(channel), poll);
        Assert.True((await grpc.NextAsync())?.Snapshot);

        using var response = await server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(response.Content.Headers.ContentType!.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Contains("# TYPE tally_votes_total counter", text, StringComparison.Ordinal);
        Assert.Equal(3, Value(text, "tally_votes_total", ("outcome", "counted")));
        Assert.Equal(1, Value(text, "tally_votes_total", ("outcome", "duplicate")));
        Assert.Equal(1, Value(text, "tally_votes_total", ("outcome", "rejected"), ("reason", "unknown_option")));
        Assert.Equal(5, Value(text, "tally_votes_total"));
        Assert.Contains("# TYPE tally_polls gauge", text, StringComparison.Ordinal);
        Assert.Equal(1, Value(text, "tally_polls", ("status", "open")));
        Assert.Equal(0, Value(text, "tally_polls", ("status", "closed")));
        Assert.Equal(0, Value(text, "tally_ingest_queued_votes"));
        Assert.Equal(0, Value(text, "tally_ingest_queue_full_total"));

        // One creation and three ballots, each awaited before the next: four appends of one event.
        Assert.Contains("# TYPE tally_eventlog_append_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Equal(4, Value(text, "tally_eventlog_append_events_sum"));
        Assert.Equal(4, Value(text, "tally_eventlog_append_events_count"));
        Assert.Equal(4, Value(text, "tally_eventlog_append_duration_seconds_count"));
        Assert.Equal(4, Value(text, "tally_eventlog_append_duration_seconds_bucket", ("le", "+Inf")));

        Assert.Equal(3, Value(text, "tally_live_watchers"));
        Assert.Equal(1, Value(text, "tally_live_connections", ("transport", "sse")));
        Assert.Equal(1, Value(text, "tally_live_connections", ("transport", "websocket")));
        Assert.Equal(1, Value(text, "tally_live_connections", ("transport", "grpc")));
        Assert.True(Value(text, "tally_live_messages_total") >= 3, "each watcher was sent a snapshot");
        Assert.Equal(0, Value(text, "tally_live_slow_consumers_total"));

        // ASP.NET Core's and the runtime's instruments are there too.
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_collections_total", text, StringComparison.Ordinal);

        // The watchers leave: the connection gauges go back to zero.
        await sse.DisposeAsync();
        await socket.CloseAsync();
        await socket.DisposeAsync();
        grpc.Dispose();
        using var deadline = new CancellationTokenSource(TestServer.Timeout);
        while (true)
        {
            var now = await server.Client.GetStringAsync("/metrics", deadline.Token);
            if (Value(now, "tally_live_connections") == 0 && Value(now, "tally_live_watchers") == 0)
            {
                break;
            }

            await Task.Delay(20, deadline.Token); // polled with a deadline: the server notices each close on its own
        }
    }

    [Fact]
    public async Task Each_server_in_a_process_reports_only_its_own_meters()
    {
        await using var a = await TestServer.StartAsync();
        await using var b = await TestServer.StartAsync();
        var poll = (string)(await b.Admin.CreatePollAsync(dedupe: "none"))["id"]!;
        using (var vote = await b.Client.VoteAsync(poll, [1], null))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        var ofA = await a.Client.GetStringAsync("/metrics");
        var ofB = await b.Client.GetStringAsync("/metrics");
        Assert.Equal(0, Value(ofA, "tally_votes_total"));
        Assert.Equal(0, Value(ofA, "tally_polls"));
        Assert.Equal(1, Value(ofB, "tally_votes_total", ("outcome", "counted")));
        Assert.Equal(1, Value(ofB, "tally_polls", ("status", "open")));

        // Not B's requests in A's http.server metrics either (A served only its own scrape so far).
        Assert.Equal(0, Value(ofA, "http_server_request_duration_seconds_count", ("http_route", "/v1/polls/{id}/votes")));
        Assert.Equal(1, Value(ofB, "http_server_request_duration_seconds_count", ("http_route", "/v1/polls/{id}/votes")));
    }

    [Fact]
    public async Task By_default_no_request_gets_an_activity_not_even_a_watcher()
    {
        var seen = new ConcurrentQueue<(string Path, Activity? Activity)>();
        await using var server = await TestServer.StartAsync(configure: b => b.Services.AddSingleton<IStartupFilter>(new RecordActivities(seen)));
        var poll = (string)(await server.Admin.CreatePollAsync())["id"]!;
        using (var health = await server.Client.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        await using (var sse = await SseClient.ConnectAsync(server.Client, $"/v1/polls/{poll}/events"))
        {
            Assert.Equal("snapshot", (await sse.NextAsync()).Name);
        }

        await using (var socket = await LiveSocket.ConnectAsync(server, LiveSocket.Json))
        {
            await socket.PingAsync();
        }

        Assert.Contains(seen, s => s.Path == "/v1/ws");
        Assert.Contains(seen, s => s.Path.EndsWith("/events", StringComparison.Ordinal));
        Assert.All(seen, s => Assert.Null(s.Activity));
    }

    [Fact]
    public async Task With_an_otlp_endpoint_requests_are_traced()
    {
        var seen = new ConcurrentQueue<(string Path, Activity? Activity)>();

        // Nothing listens at port 9 of loopback: the exporter's sends fail, which the server survives.
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9" },
            b => b.Services.AddSingleton<IStartupFilter>(new RecordActivities(seen)));
        using var health = await server.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        var (_, activity) = Assert.Single(seen, s => s.Path == "/healthz");
        Assert.NotNull(activity);
        using var metrics = await server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }

    /// <summary>Remembers <see cref="Activity.Current"/> as each request enters the app's pipeline (hosting starts its activity before).</summary>
    private sealed class RecordActivities(ConcurrentQueue<(string, Activity?)> seen) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                seen.Enqueue((context.Request.Path.Value ?? string.Empty, Activity.Current));
                return following(context);
            });
            next(app);
        };
    }
}
