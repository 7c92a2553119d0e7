namespace EventHub.Contracts;

/// <summary>
/// The <see cref="ChangeEvent.Type"/> of a SignalR stream's final signal item (see
/// <see cref="StreamSignal"/>). They are the names of the SSE frames that carry the same data, so
/// no change-log event type may use them, on either transport.
/// </summary>
public static class StreamSignalTypes
{
    /// <summary>The stream was reset; the payload is the SSE <c>reset</c> frame's data, <c>{"reason","message","offset"}</c>.</summary>
    public const string Reset = "reset";

    /// <summary>The stream ended with an error; the payload is the SSE <c>stream_error</c> frame's data, <c>{"error":{"code","message"}}</c>.</summary>
    public const string StreamError = "stream_error";
}
