namespace EventHub.SignalR;

public sealed partial class EventsHub
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Connection {ConnectionId} opened a stream of projects {Projects} after {After}.")]
    private static partial void LogStreamOpened(ILogger logger, string connectionId, string projects, string after);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Connection {ConnectionId}: stream request rejected ({Code}).")]
    private static partial void LogRejected(ILogger logger, string connectionId, string code);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Connection {ConnectionId}: stream cancelled after {Sent} events.")]
    private static partial void LogStreamCancelled(ILogger logger, string connectionId, long sent);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Connection {ConnectionId}: the server ended a stream after {Sent} events.")]
    private static partial void LogStreamEndedByServer(ILogger logger, string connectionId, long sent);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Connection {ConnectionId}: a stream failed.")]
    private static partial void LogStreamFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Connection {ConnectionId}: leaving project groups failed.")]
    private static partial void LogLeaveFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Error, Message = "Connection {ConnectionId}: opening a stream failed.")]
    private static partial void LogOpenFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information, Message = "Connection {ConnectionId}: a stream ended after {Sent} events because its token expired.")]
    private static partial void LogStreamExpired(ILogger logger, string connectionId, long sent);
}
