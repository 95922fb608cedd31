using System.Net;
using System.Net.Sockets;

namespace Tally.Testing.Engines;

/// <summary>A loopback port nothing listens on right now (the OS picks it, so parallel test runs do not collide).</summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
