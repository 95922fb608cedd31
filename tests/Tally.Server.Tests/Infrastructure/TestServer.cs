using Microsoft.AspNetCore.Http.Features;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Tally.Server.Hosting;
using Tally.Storage;
using Tally.Storage.Sqlite;
using Tally.Testing;

namespace Tally.Server.Tests.Infrastructure;

/// <summary>
/// The real server (Kestrel, SQLite, the engine) in this process on a free loopback port, with its own
/// data folder. Dispose stops it like SIGTERM does; <see cref="RestartAsync"/> starts a new one on the same data.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Action<WebApplicationBuilder>? _configure;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly bool _ownsData;
    private readonly bool _realLimits;
    private WebApplication? _app;

    private TestServer(string dataPath, bool ownsData, IReadOnlyDictionary<string, string> settings, Action<WebApplicationBuilder>? configure, bool realLimits)
    {
        DataPath = dataPath;
        _ownsData = ownsData;
        _settings = settings;
        _configure = configure;
        _realLimits = realLimits;
    }

    /// <summary>
    /// Limits far above anything a test sends, set for every test server unless it asks for the real defaults: the suite
    /// votes thousands of times from 127.0.0.1, often as one voter, and opens many sockets. The limits stay on (their
    /// code runs on every vote); the limit tests start with <c>realLimits: true</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> GenerousLimits { get; } = new Dictionary<string, string>
    {
        ["Tally:RateLimit:Ip:Rate"] = "1000000",
        ["Tally:RateLimit:Ip:Burst"] = "1000000",
        ["Tally:RateLimit:Voter:Rate"] = "1000000",
        ["Tally:RateLimit:Voter:Burst"] = "1000000",
        ["Tally:RateLimit:Key:Rate"] = "1000000",
        ["Tally:RateLimit:Key:Burst"] = "1000000",
        ["Tally:RateLimit:NewVoters:Rate"] = "1000000",
        ["Tally:RateLimit:NewVoters:Burst"] = "1000000",
        ["Tally:WebSockets:MessagesPerSecond"] = "1000000",
        ["Tally:WebSockets:MessageBurst"] = "1000000",
        ["Tally:Connections:MaxStreamsPerIp"] = "1000000",
        ["Tally:Connections:MaxConnectionsPerIp"] = "1000000",
    };

    public string DataPath { get; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The gRPC endpoint (cleartext HTTP/2 only), for <c>GrpcChannel.ForAddress</c>.</summary>
    public Uri GrpcAddress { get; private set; } = null!;

    /// <summary>A client without credentials (public endpoints).</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>A client that sends the admin key.</summary>
    public HttpClient Admin { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    /// <summary>
    /// Starts a server. <paramref name="settings"/> are configuration keys (e.g. <c>Tally:Engine:QueueCapacity</c>).
    /// <paramref name="realLimits"/> leaves the abuse limits at their defaults instead of <see cref="GenerousLimits"/>.
    /// </summary>
    public static async Task<TestServer> StartAsync(
        IReadOnlyDictionary<string, string>? settings = null,
        Action<WebApplicationBuilder>? configure = null,
        string? dataPath = null,
        bool realLimits = false)
    {
        var server = new TestServer(dataPath ?? Directory.CreateTempSubdirectory("tally-server-").FullName, dataPath is null, settings ?? new Dictionary<string, string>(), configure, realLimits);
        await server.StartAppAsync();
        return server;
    }

    /// <summary>One partition with room for two votes, one vote per batch: with the log held at its gate, the third vote is refused.</summary>
    public static IReadOnlyDictionary<string, string> TinyQueue { get; } = new Dictionary<string, string>
    {
        ["Tally:Engine:Partitions"] = "1",
        ["Tally:Engine:QueueCapacity"] = "2",
        ["Tally:Engine:MaxBatch"] = "1",
    };

    /// <summary>
    /// Starts a server whose SQLite log sits behind a <see cref="ControlledEventLog"/> (resolve it from
    /// <see cref="Services"/>), so the test can hold appends at a gate or make them fail.
    /// </summary>
    public static Task<TestServer> StartWithControlledLogAsync(IReadOnlyDictionary<string, string>? settings = null) =>
        StartAsync(settings, builder =>
        {
            builder.Services.AddSingleton<SqliteEventLog>();
            builder.Services.AddSingleton(sp => new ControlledEventLog(sp.GetRequiredService<SqliteEventLog>()));
            builder.Services.AddSingleton<IEventLog>(sp => sp.GetRequiredService<ControlledEventLog>());
        });

    /// <summary>Stops gracefully and starts again on the same data folder.</summary>
    public async Task RestartAsync()
    {
        await StopAppAsync();
        await StartAppAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAppAsync();
        if (_ownsData)
        {
            try
            {
                Directory.Delete(DataPath, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task StartAppAsync()
    {
        var args = new List<string>
        {
            "--urls=http://127.0.0.1:0",
            $"--{ServerListeners.GrpcUrlsKey}=http://127.0.0.1:0",
            $"--TALLY_DATA={DataPath}",
            $"--TALLY_ADMIN_KEY={AdminKey}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Tally=Information",

            // The tests written before voter identities vote with the body's voterId; the security tests turn this off
            // (a later setting wins), as does every server that is not a test's.
            "--Tally:Compatibility:ClientVoterIds=true",
        };
        if (!_realLimits)
        {
            args.AddRange(GenerousLimits.Select(kv => $"--{kv.Key}={kv.Value}")); // a test's own settings come later and win
        }

        args.AddRange(_settings.Select(kv => $"--{kv.Key}={kv.Value}"));
        _app = TallyApp.Build([.. args], _configure);
        await _app.StartAsync().WaitAsync(Timeout);
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        BaseAddress = new Uri(address);
        GrpcAddress = _app.Services.GetRequiredService<ServerListeners>().GrpcAddresses[0];
        // No cookie jar: a tally_voter cookie one test got must not make another test's "no credential" a voter.
        Client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = BaseAddress, Timeout = Timeout };
        Admin = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = BaseAddress, Timeout = Timeout };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
    }

    private async Task StopAppAsync()
    {
        if (_app is null)
        {
            return;
        }

        Client.Dispose();
        Admin.Dispose();
        await _app.StopAsync().WaitAsync(Timeout);
        await _app.DisposeAsync();
        _app = null;
    }
}
