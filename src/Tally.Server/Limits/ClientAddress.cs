using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Tally.Server.Limits;

/// <summary>
/// Who a client is for the limits: its IPv4 address, or its IPv6 address's /64 (one home or one host usually has a
/// whole /64, so the full address would let one machine pass for 2^64 clients). An IPv4-mapped IPv6 address is its
/// IPv4 address. No address (a Unix socket) is one client of its own.
/// </summary>
internal static class ClientAddress
{
    /// <summary>The client as 128 bits: an IPv4 address in its IPv4-mapped form, an IPv6 address with the last 64 bits cleared.</summary>
    public static UInt128 Key(IPAddress? address)
    {
        if (address is null)
        {
            return UInt128.Zero;
        }

        Span<byte> bytes = stackalloc byte[16];
        var v6 = address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6() : address;
        if (!v6.TryWriteBytes(bytes, out _))
        {
            return UInt128.Zero;
        }

        var value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return v6.IsIPv4MappedToIPv6 ? value : value & ~(UInt128)ulong.MaxValue;
    }

    /// <summary>The client as people read it: <c>203.0.113.7</c>, <c>2001:db8:1:2::/64</c>.</summary>
    public static string Describe(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6 || address.AddressFamily == AddressFamily.InterNetwork)
        {
            return (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, Key(address));
        return new IPAddress(bytes).ToString() + "/64";
    }
}
