using Microsoft.Extensions.Logging;

namespace EventHub.Client;

public sealed partial class EventHubClient
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Connecting to {Url} (attempt {Attempt}), streaming after {After}.")]
    private static partial void LogConnecting(ILogger logger, Uri url, int attempt, string after);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Streaming from {Url}.")]
    private static partial void LogLive(ILogger logger, Uri url);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Lost the stream from {Url}; reconnecting after offset {After}.")]
    private static partial void LogLost(ILogger logger, Uri url, string after, Exception error);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Attempt {Attempt} to reach {Url} failed; next in {Delay}.")]
    private static partial void LogAttemptFailed(ILogger logger, int attempt, Uri url, TimeSpan delay, Exception error);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "The hub rejected the stream request ({Code}): {Reason}")]
    private static partial void LogRejected(ILogger logger, string code, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "Giving up on {Url} after {Attempt} attempts.")]
    private static partial void LogGaveUp(ILogger logger, Uri url, int attempt, Exception error);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "The hub reset the stream ({Reason}): offset {After} cannot be continued; continuing from {ContinueFrom}.")]
    private static partial void LogReset(ILogger logger, string reason, string after, string continueFrom);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "The hub sent event seq {Seq} (offset {Offset}) a second time; it was dropped ({Count} so far). The hub should send each event once.")]
    private static partial void LogDuplicate(ILogger logger, long seq, string offset, long count);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Attempt {Attempt} to fetch the state from {Url} failed.")]
    private static partial void LogStateAttemptFailed(ILogger logger, int attempt, Uri url, Exception error);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "The application fell {Max} events behind its stream; the stream was paused, and opens again after {After}.")]
    private static partial void LogResumed(ILogger logger, int max, string after);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "A StateChanged handler threw; the client goes on.")]
    private static partial void LogHandlerFailed(ILogger logger, Exception error);
}
