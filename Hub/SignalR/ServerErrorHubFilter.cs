using Microsoft.AspNetCore.SignalR;

namespace EventHub.SignalR;

/// <summary>
/// No server exception's text reaches a hub client: every exception from a hub method, from
/// <c>OnConnectedAsync</c>, or from a stream a hub method returned, that is not a
/// <see cref="HubException"/> (the hub's own, readable errors) becomes a generic HubException,
/// and the original is logged; so is a failure of <c>OnDisconnectedAsync</c>. SignalR's own logs
/// of these are silenced by default (<see cref="ServerErrorHubFilterSetup"/>): this is their record.
/// </summary>
/// <remarks>
/// The hub runs with <c>EnableDetailedErrors</c> (EventsHubSetup), so that a call SignalR cannot
/// bind says why ("Invocation provides 0 argument(s) but target expects 1"): binding failures
/// carry only the protocol's own text about what the client sent, and this filter cannot see
/// them anyway (DefaultHubDispatcher answers them before any filter runs). Detailed errors also
/// append the message of any other exception to the client's error ("... PostgresException:
/// 22012: division by zero"), which names tables, queries and server state; this filter is what
/// keeps that text on the server. It is registered for every hub method, so a method added
/// later is covered without having to remember it.
/// </remarks>
public sealed partial class ServerErrorHubFilter(ILogger<ServerErrorHubFilter> logger) : IHubFilter
{
    public const string CallFailed = "The call could not be completed on the server. Try again shortly.";
    public const string ConnectFailed = "The connection could not be completed on the server. Try again shortly.";
    public const string StreamFailed = "The stream could not be completed on the server. Resume by calling it again with the offset of the last event you received.";

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext,
        Func<HubInvocationContext, ValueTask<object?>> next)
    {
        object? result;
        try
        {
            result = await next(invocationContext);
        }
        catch (Exception e) when (e is not HubException)
        {
            Log(e, invocationContext.HubMethodName, invocationContext.Context.ConnectionId);
            throw new HubException(CallFailed);
        }
        // A streaming method's items are read after this returns, outside the filter.
        return HubStreamErrorGuard.Wrap(result, e =>
        {
            Log(e, invocationContext.HubMethodName, invocationContext.Context.ConnectionId);
            return new HubException(StreamFailed);
        });
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (e is not HubException)
        {
            Log(e, "OnConnectedAsync", context.Context.ConnectionId);
            throw new HubException(ConnectFailed);
        }
    }

    /// <summary>
    /// Logs a failure of <c>OnDisconnectedAsync</c> and lets it go on to SignalR, which has nobody
    /// to tell: its own log of it is silenced (ServerErrorHubFilterSetup), so this is the record.
    /// </summary>
    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        try
        {
            await next(context, exception);
        }
        catch (Exception e)
        {
            Log(e, "OnDisconnectedAsync", context.Context.ConnectionId);
            throw;
        }
    }

    private void Log(Exception e, string method, string connectionId)
    {
        // A caller that went away is no server failure.
        if (e is OperationCanceledException) LogCancelled(method, connectionId);
        else LogFailed(e, method, connectionId);
    }

    [LoggerMessage(EventId = 9002, Level = LogLevel.Error, Message = "Hub method {Method} failed on connection {ConnectionId}; the client got a generic error")]
    private partial void LogFailed(Exception exception, string method, string connectionId);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Debug, Message = "Hub method {Method} was cancelled on connection {ConnectionId}")]
    private partial void LogCancelled(string method, string connectionId);
}
