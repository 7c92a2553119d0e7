using System.Net;
using System.Net.Sockets;

namespace EventHub.Storage;

/// <summary>Free TCP ports on 127.0.0.1 (for the embedded cluster, and the tests).</summary>
public static class LoopbackPorts
{
    /// <summary>
    /// A port that was free a moment ago. Another process may take it before the caller binds it;
    /// callers that can retry should.
    /// </summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
