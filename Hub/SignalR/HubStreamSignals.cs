using EventHub.Contracts;
using EventHub.Streaming;
using EventHub.Streaming.Policy;

namespace EventHub.SignalR;

/// <summary>
/// How a SignalR stream ended, as a <see cref="StreamSignal"/> (the final item of a stream opened
/// with <see cref="StreamEventsRequest.SignalItems"/>). Each signal carries a code of the contract.
/// The HubException that older clients get for the same end keeps its old text (see
/// <see cref="EventsHub"/>): those clients stop on any coded message, so the server-side ends
/// (stopping, failing) must stay uncoded for them.
/// </summary>
internal static class HubStreamSignals
{
    /// <summary>What the client is told to do after a stream it could resume ends.</summary>
    public const string ResumeAdvice = "Resume by calling StreamEvents again with 'after' set to the offset of the last event you received.";

    public static StreamSignal Refused(StreamRefusal refusal) => StreamSignal.ForError(refusal.Code, refusal.Message);

    public static StreamSignal Reset(StreamResetException reset) =>
        StreamSignal.ForReset(reset.Reason, reset.Message, reset.ContinueFrom);

    public static StreamSignal TooManyStreams(int maxStreams) => StreamSignal.ForError(ErrorCodes.TooManyStreams,
        $"This connection already has {maxStreams} open streams (Limits:MaxStreamsPerConnection). " +
        "Cancel one, or ask for several projects in one stream.");

    public static readonly StreamSignal TokenExpired = StreamSignal.ForError(ErrorCodes.TokenExpired,
        "The token that authorized this stream has expired. Reconnect with a fresh token and call StreamEvents again " +
        "with 'after' set to the offset of the last event you received.");

    public static readonly StreamSignal ServerEnded = StreamSignal.ForError(ErrorCodes.ServerEnded,
        $"The server ended this stream. {ResumeAdvice}");

    public static readonly StreamSignal DatabaseUnavailable = StreamSignal.ForError(ErrorCodes.Unavailable,
        $"The event log is unavailable right now. {ResumeAdvice}");

    public static readonly StreamSignal Failed = StreamSignal.ForError(ErrorCodes.InternalError,
        $"The stream failed on the server. {ResumeAdvice}");

    /// <summary>The signal of an open stream's end; null when the client cancelled (nobody to tell).</summary>
    public static StreamSignal? Ended(StreamEnd end) => end.Reason switch
    {
        StreamEndReason.Cancelled => null,
        StreamEndReason.Reset => Reset(end.Reset!),
        StreamEndReason.TokenExpired => TokenExpired,
        StreamEndReason.ServerEnded => ServerEnded,
        StreamEndReason.DatabaseUnavailable => DatabaseUnavailable,
        _ => Failed,
    };
}
