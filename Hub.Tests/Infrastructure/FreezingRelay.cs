using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace EventHub.Tests.Infrastructure;

/// <summary>
/// A TCP relay on a loopback port between the hub and its database that can lose its connections
/// silently, as a network does when the path goes without a reset (a failover that left the old
/// server unreachable, a firewall's or NAT's dropped state): after <see cref="Freeze"/> no byte
/// passes either way on the connections open then, and their sockets stay open, so neither end
/// learns anything. Connections opened later relay as before, as they would reach the new server.
/// </summary>
public sealed class FreezingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly EndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Link> _links = [];
    private readonly Task _accepting;

    private FreezingRelay(EndPoint target)
    {
        _target = target;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>
    /// Relays to the server of <paramref name="connectionString"/>; <see cref="ConnectionString"/>
    /// is the same connection string through the relay.
    /// </summary>
    public static FreezingRelay To(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var relay = new FreezingRelay(new DnsEndPoint(builder.Host!, builder.Port));
        builder.Host = "127.0.0.1";
        builder.Port = ((IPEndPoint)relay._listener.LocalEndpoint).Port;
        relay.ConnectionString = builder.ConnectionString;
        return relay;
    }

    public string ConnectionString { get; private set; } = "";

    /// <summary>Stops every connection open now, both ways, leaving its sockets open; returns how many.</summary>
    public int Freeze()
    {
        var frozen = 0;
        foreach (var link in _links)
            if (!link.Frozen) { link.Frozen = true; frozen++; }
        return frozen;
    }

    /// <summary>
    /// Stops the server's replies on every connection open now, leaving what the hub sends passing
    /// on (a path lost one way): the server runs what it is sent and nobody hears its answers or
    /// its notifications. Returns how many.
    /// </summary>
    public int FreezeReplies()
    {
        var frozen = 0;
        foreach (var link in _links)
            if (!link.RepliesFrozen) { link.RepliesFrozen = true; frozen++; }
        return frozen;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception) { return; }
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            try { await server.ConnectAsync(_target, _stop.Token); }
            catch (Exception) { client.Dispose(); server.Dispose(); continue; }
            var link = new Link(client, server);
            _links.Add(link);
            _ = PumpAsync(link, client, server, replies: false);
            _ = PumpAsync(link, server, client, replies: true);
        }
    }

    private async Task PumpAsync(Link link, Socket from, Socket to, bool replies)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, _stop.Token);
                // Frozen: what arrived is kept from the other end, and so is everything after it.
                if (link.Frozen || (replies && link.RepliesFrozen)) await Task.Delay(Timeout.Infinite, _stop.Token);
                if (read == 0) break;
                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
            }
            if (!link.Frozen) to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception)
        {
            if (!link.Frozen) link.Close(); // a reset passes on, unless frozen
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        foreach (var link in _links) link.Close();
        _stop.Dispose();
    }

    private sealed class Link(Socket client, Socket server)
    {
        public volatile bool Frozen;
        public volatile bool RepliesFrozen;

        public void Close()
        {
            client.Dispose();
            server.Dispose();
        }
    }
}
