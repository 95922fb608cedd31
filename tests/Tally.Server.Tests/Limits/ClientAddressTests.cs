using System.Net;
using Tally.Server.Limits;

namespace Tally.Server.Tests.Limits;

/// <summary>Who a client is for the limits, and which proxies are believed.</summary>
public sealed class ClientAddressTests
{
    [Theory]
    [InlineData("203.0.113.7", "::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2::10", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64")]
    public void An_ipv4_client_is_its_address_in_either_form_and_an_ipv6_client_its_64(string address, string same, string described)
    {
        Assert.Equal(ClientAddress.Key(IPAddress.Parse(address)), ClientAddress.Key(IPAddress.Parse(same)));
        Assert.Equal(described, ClientAddress.Describe(IPAddress.Parse(same)));
    }

    [Fact]
    public void Clients_in_other_networks_are_apart()
    {
        Assert.NotEqual(ClientAddress.Key(IPAddress.Parse("2001:db8:1:2::1")), ClientAddress.Key(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.NotEqual(ClientAddress.Key(IPAddress.Parse("203.0.113.7")), ClientAddress.Key(IPAddress.Parse("203.0.113.8")));
        Assert.NotEqual(ClientAddress.Key(IPAddress.Parse("0.0.0.1")), ClientAddress.Key(IPAddress.Parse("::1")));
        Assert.Equal("unknown", ClientAddress.Describe(null));
    }

    [Theory]
    [InlineData("10.0.0.5", true)]
    [InlineData(" 10.0.0.0/8 ", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::/8", true)]
    [InlineData("::ffff:10.0.0.5", true)]
    [InlineData("10.0.0.1/8", false)] // bits set past the prefix: a typo, not a range
    [InlineData("10.0.0.0/33", false)]
    [InlineData("proxy.internal", false)]
    [InlineData("", false)]
    public void Trusted_proxies_are_addresses_or_CIDR_ranges(string entry, bool valid) =>
        Assert.Equal(valid, TrustedProxies.TryParse(entry, out _));

    [Fact]
    public void A_trusted_range_covers_its_addresses_in_either_form()
    {
        var proxies = new TrustedProxies(Microsoft.Extensions.Options.Options.Create(new ProxyOptions { Trusted = ["10.0.0.0/8", "2001:db8::/32"] }));
        Assert.True(proxies.IsTrusted(IPAddress.Parse("10.200.1.1")));
        Assert.True(proxies.IsTrusted(IPAddress.Parse("::ffff:10.200.1.1")));
        Assert.True(proxies.IsTrusted(IPAddress.Parse("2001:db8:ffff::1")));
        Assert.False(proxies.IsTrusted(IPAddress.Parse("11.0.0.1")));
        Assert.False(proxies.IsTrusted(IPAddress.Loopback));
    }
}
