using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Tally.Server.Hosting;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;
using Tally.V1;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests.Security;

/// <summary>
/// TLS from PEM files (<c>TALLY_TLS_CERT</c>, <c>TALLY_TLS_KEY</c>): HTTP/1.1 and HTTP/2 by ALPN on the main port,
/// gRPC over TLS on the main port and on an https gRPC URL, HSTS on TLS responses only, and the start refused
/// with a message naming the setting when the files are wrong. Clients trust the test's certificate alone.
/// </summary>
public sealed class TlsTests
{
    [Fact]
    public async Task The_main_https_port_serves_HTTP_1_1_and_HTTP_2_with_the_certificate_from_the_PEM_files()
    {
        using var certificate = TestCertificate.Create();
        await using var server = await StartAsync(certificate);
        var https = HttpsAddress(server);
        using var http2 = certificate.Client(https, HttpVersion.Version20, TestServer.AdminKey);
        using var http11 = certificate.Client(https, HttpVersion.Version11);

        var id = (string)(await http2.CreatePollAsync(options: 2))["id"]!;
        using (var vote = await http11.VoteAsync(id, [2], "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
            Assert.Equal(HttpVersion.Version11, vote.Version);
        }

        foreach (var client in new[] { http11, http2 })
        {
            using var response = await client.GetAsync($"/v1/polls/{id}/results");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(client.DefaultRequestVersion, response.Version);
            Assert.Equal(1, ApiClient.Counts((await response.ReadJsonAsync()))[2]);
            Assert.Equal("max-age=31536000", Assert.Single(response.Headers.GetValues("Strict-Transport-Security"))); // the default: a year
        }
    }

    [Fact]
    public async Task gRPC_Watch_and_Vote_work_over_TLS_on_the_main_port_and_on_an_https_gRPC_url()
    {
        using var certificate = TestCertificate.Create();
        await using var server = await StartAsync(certificate);
        var grpcHttps = Assert.Single(server.Services.GetRequiredService<ServerListeners>().GrpcAddresses, a => a.Scheme == "https");
        using var admin = certificate.Client(HttpsAddress(server), HttpVersion.Version20, TestServer.AdminKey);

        foreach (var address in new[] { HttpsAddress(server), grpcHttps })
        {
            var id = (string)(await admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
            using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = certificate.Handler() });
            var client = new LiveClient(channel);
            using var watcher = new GrpcWatcher(client, id);
            Assert.True((await watcher.NextAsync())!.Snapshot);

            var reply = await client.VoteAsync(new VoteRequest { PollId = id, OptionIds = { 1 } }, deadline: DateTime.UtcNow.Add(TestServer.Timeout));
            Assert.Equal(VoteStatus.Counted, reply.Status);
            await watcher.ReadUntilSeqAsync(reply.Seq);
            Assert.Equal(1, watcher.Counts[1]);
        }
    }

    [Fact]
    public async Task HSTS_with_the_configured_max_age_is_on_TLS_responses_and_never_on_cleartext_ones()
    {
        using var certificate = TestCertificate.Create();
        await using var server = await StartAsync(certificate, new() { ["Tally:Tls:HstsMaxAge"] = "00:10:00" });
        using var tls = certificate.Client(HttpsAddress(server), HttpVersion.Version11);
        var cleartext = Assert.Single(server.Services.GetRequiredService<ServerListeners>().HttpAddresses, a => a.Scheme == "http");
        using var plain = new HttpClient { BaseAddress = cleartext, Timeout = TestServer.Timeout };

        foreach (var path in new[] { "/healthz", "/", "/v1/polls/nosuchpoll", "/no/such/endpoint" })
        {
            using var overTls = await tls.GetAsync(path);
            Assert.Equal("max-age=600", Assert.Single(overTls.Headers.GetValues("Strict-Transport-Security")));
            using var inClear = await plain.GetAsync(path);
            Assert.Equal(overTls.StatusCode, inClear.StatusCode);
            Assert.False(inClear.Headers.Contains("Strict-Transport-Security"), path);
        }
    }

    [Fact]
    public async Task A_full_chain_file_sends_the_intermediate_with_the_certificate()
    {
        using var certificate = TestCertificate.Create(withIssuer: true);
        await using var server = await StartAsync(certificate);
        var sent = new List<string>();
        using var client = new HttpClient(certificate.Handler(chain =>
        {
            // The certificates the server sent besides its own are the ones the client builds the chain from.
            lock (sent)
            {
                sent.AddRange(chain!.ChainPolicy.ExtraStore.Select(c => c.GetCertHashString(HashAlgorithmName.SHA256)));
            }
        }))
        {
            BaseAddress = HttpsAddress(server),
            Timeout = TestServer.Timeout,
        };

        using var response = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        lock (sent)
        {
            Assert.Contains(certificate.Issuer!.GetCertHashString(HashAlgorithmName.SHA256), sent);
        }
    }

    [Fact]
    public void With_a_certificate_and_no_main_url_the_server_listens_on_https_localhost_8443()
    {
        using var certificate = TestCertificate.Create();
        var listeners = ServerListeners.Configure(
            WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [.. certificate.Settings.Select(kv => $"--{kv.Key}={kv.Value}")] }),
            TallyApp.DefaultUrl);

        Assert.Equal(["https://localhost:8443/"], listeners.HttpAddresses.Select(u => u.ToString()));
        Assert.Equal(["http://localhost:8081/"], listeners.GrpcAddresses.Select(u => u.ToString()));
        Assert.Equal(certificate.Certificate.Thumbprint, listeners.Certificate!.Certificate.Thumbprint);
        Assert.True(listeners.Certificate.Certificate.HasPrivateKey);
    }

    public static TheoryData<string, string> BadSettings => new()
    {
        { "only the certificate", "TALLY_TLS_KEY is not set" },
        { "only the key", "TALLY_TLS_CERT is not set" },
        { "no certificate file", "TALLY_TLS_CERT: cannot read" },
        { "no key file", "TALLY_TLS_KEY: cannot read" },
        { "the key as certificate", "TALLY_TLS_CERT: " },
        { "the certificate as key", "TALLY_TLS_KEY: " },
        { "another certificate's key", "TALLY_TLS_KEY: " },
        { "an encrypted key", "TALLY_TLS_KEY: " },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void Bad_TLS_settings_stop_the_start_with_a_message_naming_the_setting_and_no_key_material(string what, string message)
    {
        using var certificate = TestCertificate.Create();
        using var other = TestCertificate.Create();
        var missing = Path.Combine(certificate.Folder, "missing.pem");
        (string? cert, string? key) = what switch
        {
            "only the certificate" => (certificate.CertPath, null),
            "only the key" => (null, certificate.KeyPath),
            "no certificate file" => (missing, certificate.KeyPath),
            "no key file" => (certificate.CertPath, missing),
            "the key as certificate" => (certificate.KeyPath, certificate.KeyPath),
            "the certificate as key" => (certificate.CertPath, certificate.CertPath),
            "another certificate's key" => (certificate.CertPath, other.KeyPath),
            "an encrypted key" => (certificate.CertPath, EncryptedKey(certificate)),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };
        var args = new List<string> { "--urls=https://127.0.0.1:0" };
        if (cert is not null)
        {
            args.Add($"--{ServerCertificate.CertKey}={cert}");
        }

        if (key is not null)
        {
            args.Add($"--{ServerCertificate.KeyKey}={key}");
        }

        var error = Assert.Throws<InvalidOperationException>(() => TallyApp.Build([.. args]));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        foreach (var keyFile in Directory.GetFiles(certificate.Folder, "*key.pem").Append(other.KeyPath))
        {
            foreach (var line in File.ReadAllLines(keyFile).Where(l => !l.StartsWith("-----", StringComparison.Ordinal) && l.Length > 8))
            {
                Assert.DoesNotContain(line, error.ToString(), StringComparison.Ordinal);
            }
        }
    }

    private static string EncryptedKey(TestCertificate certificate)
    {
        var path = Path.Combine(certificate.Folder, "encrypted-key.pem");
        using var key = certificate.Certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(path, key.ExportEncryptedPkcs8PrivateKeyPem("secret", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000)));
        return path;
    }

    /// <summary>Main URLs in clear and over TLS, gRPC URLs over TLS and in clear, all on free loopback ports.</summary>
    private static Task<TestServer> StartAsync(TestCertificate certificate, Dictionary<string, string>? settings = null)
    {
        var all = certificate.Settings;
        all["urls"] = "http://127.0.0.1:0;https://127.0.0.1:0";
        all[ServerListeners.GrpcUrlsKey] = "https://127.0.0.1:0;http://127.0.0.1:0";
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        return TestServer.StartAsync(all);
    }

    private static Uri HttpsAddress(TestServer server) =>
        Assert.Single(server.Services.GetRequiredService<ServerListeners>().HttpAddresses, a => a.Scheme == "https");
}
