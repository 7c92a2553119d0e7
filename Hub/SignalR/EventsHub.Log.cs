namespace EventHub.SignalR;

public sealed partial class EventsHub
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Connection {ConnectionId} opened a stream of projects {Projects} after {After}.")]
    private static partial void LogStreamOpened(ILogger logger, string connectionId, string projects, string after);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Connection {ConnectionId}: stream request rejected ({Code}).")]
    private static partial void LogRejected(ILogger logger, string connectionId, string code);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Connection {ConnectionId}: stream cancelled after {Sent} events.")]
    private static partial void LogStreamCancelled(ILogger logger, string connectionId, long sent);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "Connection {ConnectionId}: a stream failed.")]
    private static partial void LogStreamFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "Connection {ConnectionId}: leaving project groups failed.")]
    private static partial void LogLeaveFailed(ILogger logger, string connectionId, Exception exception);
}
