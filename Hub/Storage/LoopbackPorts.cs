using System.Net;
using System.Net.Sockets;

namespace EventHub.Storage;

/// <summary>Free TCP ports on 127.0.0.1 (for the embedded cluster, the tests and the bench).</summary>
public static class LoopbackPorts
{
    // The lowest port handed out: above the registered services most machines run (a port that is
    // in use is skipped anyway).
    private const int Lowest = 10_000;

    // The ephemeral range when the machine does not say (IANA's, Windows' and macOS's default).
    private const int DefaultEphemeralLow = 49_152;

    /// <summary>
    /// A port that was free a moment ago, below the machine's ephemeral range when there is room.
    /// </summary>
    /// <remarks>
    /// Why not the kernel's choice (port 0): it comes from the ephemeral range, the range every
    /// outgoing connection's local port is taken from too. Between this method releasing the port
    /// and the caller binding it, any <c>connect()</c> on the machine (a test's connection to
    /// PostgreSQL, a client's to another hub) can take it, and the caller's bind fails with
    /// "address already in use" (seen in CI: one of three hub processes started at once). A port
    /// below that range is only ever taken by a process that asks for it by number, so the window
    /// is open only to another caller of this method picking the same port at random.
    /// </remarks>
    public static int Free()
    {
        var ephemeralLow = EphemeralLow();
        if (ephemeralLow - Lowest >= 1_000)
        {
            for (var attempt = 0; attempt < 50; attempt++)
            {
                var port = Random.Shared.Next(Lowest, ephemeralLow);
                if (IsFree(port)) return port;
            }
        }
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The first port of the ephemeral range (Linux says it in /proc).</summary>
    private static int EphemeralLow()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return range.Length > 0 && int.TryParse(range[0], out var low) ? low : DefaultEphemeralLow;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return DefaultEphemeralLow;
        }
    }
}
