using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace EventHub.SignalR.Internal;

/// <summary>
/// On a graceful stop, holds SignalR's own shutdown until this node's streams have ended with
/// their final item (<c>server_ended</c>, or the HubException that says to resume) and their
/// connections have closed cleanly, so that a client learns the stream ended rather than that its
/// connection was lost.
/// </summary>
/// <remarks>
/// The race it guards: the stream source ends every stream at <c>ApplicationStopping</c>, and each
/// stream's pump then queues its final item for SignalR to send; but SignalR's connection manager,
/// in its own <c>ApplicationStopping</c> callback, cancels every connection's transport without
/// waiting for what the application has written, so the final items were lost with the
/// connections (the client saw a reset). Callbacks of a cancellation token run in the reverse order
/// of their registration, and the connection manager registers when the hub is mapped, before the
/// host has started; this callback, registered once the host has started, therefore runs before
/// it, and the streams' own (registered as they opened, later still) before this one. It waits
/// until SignalR's sender has taken each stream's end (by then it has written the last item), then
/// closes each connection that had a stream the way the hub does (a close message, then the
/// transport's clean close) and waits for it to go, all within
/// <see cref="EventsHubOptions.StopDrainTimeout"/>: a client too slow to take its last item does
/// not hold the stop longer than that.
/// </remarks>
public sealed partial class SignalRStreamsStopDrain(
    IHostApplicationLifetime lifetime,
    StreamQueueTotals queues,
    IOptions<EventsHubOptions> options,
    ILogger<SignalRStreamsStopDrain> logger) : IHostedService, IDisposable
{
    // The connections that opened a stream, until they disconnect.
    private readonly ConcurrentDictionary<string, (HubCallerContext Context, TaskCompletionSource Gone)> _connections = new();
    private CancellationTokenRegistration _started, _stopping;

    /// <summary>Called as a connection opens a stream.</summary>
    public void Streaming(HubCallerContext context)
    {
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_connections.TryAdd(context.ConnectionId, (context, gone))) return;
        // A WebSocket or SSE connection has gone once its transport's request has ended: the
        // transport has sent what the hub wrote, its close message last, and closed cleanly (the
        // hub's OnDisconnectedAsync comes before that). Long polling has no request of its own:
        // it has gone once the hub saw it disconnect (Disconnected).
        if (!HasRequestOfItsOwn(context)) return;
        try
        {
            context.GetHttpContext()?.Response.OnCompleted(static state =>
            {
                ((TaskCompletionSource)state).TrySetResult();
                return Task.CompletedTask;
            }, gone);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            gone.TrySetResult(); // the request has already ended
        }
    }

    /// <summary>Called from the hub's <c>OnDisconnectedAsync</c>: a stop that begins later does not wait for this connection.</summary>
    public void Disconnected(HubCallerContext context)
    {
        if (_connections.TryRemove(context.ConnectionId, out var connection) && !HasRequestOfItsOwn(context))
            connection.Gone.TrySetResult();
    }

    // WebSockets and SSE hold one request for the connection's life; long polling makes one per poll.
    private static bool HasRequestOfItsOwn(HubCallerContext context) =>
        context.Features.Get<IHttpTransportFeature>()?.TransportType is HttpTransportType.WebSockets or HttpTransportType.ServerSentEvents;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _started = lifetime.ApplicationStarted.Register(() => _stopping = lifetime.ApplicationStopping.Register(Drain));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Drain()
    {
        var timeout = options.Value.StopDrainTimeout;
        if (_connections.IsEmpty || timeout <= TimeSpan.Zero) return;
        var streams = queues.Streams;
        var started = Stopwatch.GetTimestamp();
        // Blocking is what this callback is for: SignalR's, which runs next, cancels the transports.
        // First every stream's last item, then each connection's close message and clean close. A
        // stream's completion, which SignalR writes just after it takes the stream's end, mostly
        // comes before the close message; on a loaded machine it can come after it (the client has
        // the item either way). No hook tells when SignalR has written it.
        var ended = queues.AllRemovedAsync().Wait(timeout);
        var connections = _connections.Values.ToArray();
        foreach (var connection in connections) connection.Context.Abort();
        var left = timeout - Stopwatch.GetElapsedTime(started);
        var closed = left > TimeSpan.Zero && Task.WhenAll(connections.Select(c => c.Gone.Task)).Wait(left);
        if (!ended || !closed)
            LogDrainTimedOut(logger, queues.Streams, streams, connections.Count(c => !c.Gone.Task.IsCompleted), timeout.TotalMilliseconds);
    }

    public void Dispose()
    {
        _started.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning,
        Message = "Stopping: after {TimeoutMs} ms (SignalR:StopDrainTimeout) {Left} of {Streams} SignalR streams had not sent their final item and {Open} connections had not closed; SignalR closes them as they are")]
    private static partial void LogDrainTimedOut(ILogger logger, int left, int streams, int open, double timeoutMs);
}
