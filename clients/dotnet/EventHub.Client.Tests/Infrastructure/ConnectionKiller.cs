using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace EventHub.Client.Tests.Infrastructure;

/// <summary>A hub filter that remembers the open connections so a test can drop them from the server side.</summary>
public sealed class ConnectionKiller : IHubFilter
{
    private readonly ConcurrentDictionary<string, HubCallerContext> _connections = new();

    public int Count => _connections.Count;

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        _connections[context.Context.ConnectionId] = context.Context;
        await next(context);
    }

    public Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        _connections.TryRemove(context.Context.ConnectionId, out _);
        return next(context, exception);
    }

    /// <summary>Aborts every open connection, as a server that drops them would.</summary>
    public int AbortAll()
    {
        var aborted = 0;
        foreach (var (_, connection) in _connections)
        {
            connection.Abort();
            aborted++;
        }
        return aborted;
    }
}
