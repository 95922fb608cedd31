using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tally.Server.Tests.Webhooks;

/// <summary>
/// A webhook receiver on a free loopback port (its own Kestrel): records every request (headers and the raw body) and
/// answers with whatever <see cref="Answer"/> says (200 by default). <see cref="WaitForAsync"/> waits, bounded, for a
/// condition on what it took.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Delivery> _all = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private WebhookReceiver(WebApplication app) => _app = app;

    private volatile int _answer = 200;

    /// <summary>The status to answer with now.</summary>
    public int Answer
    {
        get => _answer;
        set => _answer = value;
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>Every request, in arrival order.</summary>
    public IReadOnlyList<Delivery> All => [.. _all];

    /// <summary>The requests answered 2xx, in arrival order.</summary>
    public IReadOnlyList<Delivery> Taken => [.. _all.Where(d => d.Answered is >= 200 and < 300)];

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var status = receiver.Answer;
            receiver._all.Enqueue(new Delivery(
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body.ToArray(),
                status));
            receiver._arrived.Release();
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/hook");
        return receiver;
    }

    /// <summary>Waits until <paramref name="done"/> holds for what arrived, or fails after <paramref name="timeout"/>.</summary>
    public async Task WaitForAsync(Func<WebhookReceiver, bool> done, TimeSpan timeout, string what)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!done(this))
        {
            try
            {
                await _arrived.WaitAsync(TimeSpan.FromMilliseconds(200), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The receiver did not get {what} within {timeout} ({_all.Count} requests, {Taken.Count} taken).");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _arrived.Dispose();
    }

    /// <summary>One request as it arrived.</summary>
    public sealed record Delivery(IReadOnlyDictionary<string, string> Headers, byte[] Body, int Answered)
    {
        public string Id => Headers["webhook-id"];

        public string Text => System.Text.Encoding.UTF8.GetString(Body);

        public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

        public string Type => (string)Json["type"]!;

        public JsonObject Data => Json["data"]!.AsObject();
    }
}
