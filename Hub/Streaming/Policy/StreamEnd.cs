namespace EventHub.Streaming.Policy;

/// <summary>How an open stream ended; the transport frames it (or says nothing, when the client left).</summary>
public enum StreamEndReason
{
    /// <summary>The client cancelled the stream or went away: not an error case.</summary>
    Cancelled,
    /// <summary>The server ended the stream (the hub is stopping): the client resumes from its last offset.</summary>
    ServerEnded,
    /// <summary>The stream cannot continue without a gap (retention pruned past it): see <see cref="StreamEnd.Reset"/>.</summary>
    Reset,
    /// <summary>The token that authorized the stream expired.</summary>
    TokenExpired,
    /// <summary>The database failed during a read; the client resumes from its last offset once it is back.</summary>
    DatabaseUnavailable,
    /// <summary>Anything else went wrong on the server (logged there).</summary>
    Failed,
}

/// <summary>How a stream ended and how many events it delivered.</summary>
public sealed record StreamEnd(StreamEndReason Reason, long Delivered, StreamResetException? Reset = null);
