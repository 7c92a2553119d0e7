using System.Net.WebSockets;
using System.Text;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.SignalR;

public sealed class KeepAliveTests
{
    [Fact]
    public async Task The_hub_pings_idle_connections_at_the_configured_keep_alive_interval()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["SignalR:KeepAliveInterval"] = "00:00:00.200" });
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(new Uri(hub.BaseAddress.ToString().Replace("http", "ws")), "/hubs/events"),
            CancellationToken.None).WithTimeout();
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"),
            WebSocketMessageType.Text, true, CancellationToken.None).WithTimeout();

        // The handshake answer, then pings ({"type":6}) well before the 15 s default would send one.
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (received.ToString().Split('\u001e').Count(m => m.Contains("\"type\":6")) < 2)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None).WithTimeout(TimeSpan.FromSeconds(5));
            received.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
    }
}
