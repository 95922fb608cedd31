using Microsoft.AspNetCore.Builder;
using Tally.Server.Hosting;

namespace Tally.Server.Tests.Live;

/// <summary>How the main and gRPC URLs are read (the endpoints themselves are exercised by <see cref="GrpcTests"/>).</summary>
public sealed class ServerListenersTests
{
    [Fact]
    public void Without_settings_the_main_port_is_8080_and_gRPC_8081_on_localhost()
    {
        var listeners = Configure();

        Assert.Equal(["http://localhost:8080/"], listeners.HttpAddresses.Select(u => u.ToString()));
        Assert.Equal(["http://localhost:8081/"], listeners.GrpcAddresses.Select(u => u.ToString()));
    }

    [Fact]
    public void Both_lists_take_several_urls_separated_by_semicolons()
    {
        var listeners = Configure("--urls=http://127.0.0.1:9000", "--TALLY_GRPC_URLS= http://127.0.0.1:9001 ; http://[::1]:9001 ");

        Assert.Equal(9000, Assert.Single(listeners.HttpUrls).Port);
        Assert.Equal(["127.0.0.1", "[::1]"], listeners.GrpcUrls.Select(u => u.Host));
        Assert.All(listeners.GrpcUrls, u => Assert.Equal(9001, u.Port));
    }

    [Theory]
    [InlineData("localhost:8081")]
    [InlineData("ftp://localhost:8081")]
    [InlineData("http://localhost:8081/grpc")]
    public void A_grpc_url_that_is_not_a_listen_url_stops_the_start_naming_the_setting(string url)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Configure("--TALLY_GRPC_URLS=" + url));

        Assert.StartsWith("TALLY_GRPC_URLS:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_gRPC_port_cannot_be_a_main_port()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Configure("--urls=http://127.0.0.1:9000", "--TALLY_GRPC_URLS=http://localhost:9000"));

        Assert.Contains("port 9000", error.Message, StringComparison.Ordinal);
    }

    private static ServerListeners Configure(params string[] args) =>
        ServerListeners.Configure(WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args }), TallyApp.DefaultUrl);
}
