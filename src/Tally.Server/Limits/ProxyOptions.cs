namespace Tally.Server.Limits;

/// <summary>
/// Settings under <c>Tally:Proxies</c>: whose <c>X-Forwarded-For</c> is believed. From any other address the header is
/// ignored, so a client cannot pick the address its limits are counted against.
/// </summary>
public sealed class ProxyOptions
{
    /// <summary>The loopback addresses: a proxy on this host, such as <c>scripts/cluster.sh</c>'s nginx.</summary>
    public static readonly IReadOnlyList<string> Loopback = ["127.0.0.0/8", "::1"];

    /// <summary>
    /// Addresses and CIDR ranges of trusted proxies (<c>10.0.0.5</c>, <c>10.0.0.0/8</c>, <c>fd00::/8</c>): a comma-separated
    /// value (<c>Tally:Proxies:Trusted=10.0.0.5,10.1.0.0/16</c>) or a list (<c>Tally:Proxies:Trusted:0</c>, …); empty trusts
    /// none. Default <see cref="Loopback"/>. Through a chain of trusted proxies the client is the last address before the first
    /// untrusted hop.
    /// </summary>
    public IReadOnlyList<string> Trusted { get; set; } = Loopback;
}
