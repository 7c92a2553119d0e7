using System.Net;
using System.Net.Sockets;
using EventHub.Storage;

namespace EventHub.Tests.Storage;

/// <summary>
/// The ports the embedded cluster, the tests and the bench bind: never from the range the kernel
/// takes outgoing connections' local ports from (one of them took a hub's port between the pick
/// and the bind: "address already in use" in CI), and never one that something listens on.
/// </summary>
public sealed class LoopbackPortsTests
{
    [LinuxFact]
    public void A_free_port_is_below_the_ephemeral_range()
    {
        var low = int.Parse(File.ReadAllText(RangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0]);
        Assert.True(low >= 11_000, $"no room below this machine's ephemeral range ({low}): the test needs one");
        for (var i = 0; i < 20; i++)
        {
            var port = LoopbackPorts.Free();
            Assert.InRange(port, 10_000, low - 1);
        }
    }

    [Fact]
    public void A_free_port_is_one_that_nothing_listens_on_and_that_binds()
    {
        var held = new List<TcpListener>();
        try
        {
            // Each port handed out is then held, so a later pick that skipped the check would fail to bind.
            for (var i = 0; i < 200; i++)
            {
                var port = LoopbackPorts.Free();
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                held.Add(listener);
            }
            Assert.Equal(200, held.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).Distinct().Count());
        }
        finally
        {
            foreach (var listener in held) listener.Stop();
        }
    }

    private const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
}

/// <summary>A fact about Linux (its /proc); skipped elsewhere.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "Reads Linux's /proc.";
    }
}
