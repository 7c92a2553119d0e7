using System.Text.Json;
using EventHub.Client.Internal;
using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>
/// Not a change of the log but a signal in the stream: the hub cannot continue from the client's
/// offset without a gap, because the offset belongs to another log (<see cref="Reasons.OffsetFromAnotherLog"/>:
/// another database, or the schema was re-created) or retention pruned events after it
/// (<see cref="Reasons.OffsetPruned"/>). Whatever the application built from earlier events may
/// be stale (the same holds for <see cref="Reasons.OffsetFormatChanged"/>, an offset in a format
/// the log no longer issues): <b>refetch state, then continue</b>. The client continues by itself right after
/// this item, from <see cref="ContinueFrom"/> (also <see cref="ChangeEvent.Offset"/>, so storing
/// the offset of every item you handled stays correct).
/// </summary>
/// <remarks>
/// It derives from <see cref="ChangeEvent"/> so that it arrives in order in the same
/// <c>await foreach</c> as the events: a <c>switch</c> with a <c>case StreamReset</c> handles it.
/// <see cref="ChangeEvent.Type"/> is <see cref="EventType"/>, <see cref="ChangeEvent.Seq"/> is 0,
/// <see cref="ChangeEvent.ProjectId"/> is empty (a reset concerns the whole stream, see
/// <see cref="Projects"/>), <see cref="ChangeEvent.Payload"/> is <c>{"reason","message","offset"}</c> as in the
/// SSE <c>reset</c> frame, and <see cref="ChangeEvent.CreatedAt"/> is when the client received it.
/// </remarks>
public sealed class StreamReset : ChangeEvent
{
    /// <summary>The <see cref="ChangeEvent.Type"/> of a reset item; no change-log event has it.</summary>
    public const string EventType = "eventhub.reset";

    /// <summary>The values of <see cref="Reason"/> the hub sends today; others may come.</summary>
    public static class Reasons
    {
        /// <summary>The offset came from another log (another database, or a re-created schema).</summary>
        public const string OffsetFromAnotherLog = ErrorCodes.OffsetFromAnotherLog;

        /// <summary>Retention deleted events after the offset.</summary>
        public const string OffsetPruned = ErrorCodes.OffsetPruned;

        /// <summary>The offset is in a format this log no longer issues: refetch, and the stream continues from the offset given.</summary>
        public const string OffsetFormatChanged = ErrorCodes.OffsetFormatChanged;
    }

    /// <summary>Creates a reset item (the client does; tests and fakes may too).</summary>
    /// <param name="reason">The hub's reason code, for example <see cref="Reasons.OffsetPruned"/>.</param>
    /// <param name="message">The hub's explanation.</param>
    /// <param name="continueFrom">The offset the stream continues after.</param>
    /// <param name="previousOffset">The offset the hub could not continue from (null: from now).</param>
    /// <param name="projects">The projects of the stream (empty: every project).</param>
    /// <param name="receivedAt">When the client received it.</param>
    public StreamReset(string reason, string message, string continueFrom, string? previousOffset,
        IReadOnlyList<string> projects, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(reason);
        ArgumentNullException.ThrowIfNull(continueFrom);
        Reason = reason;
        Message = message ?? "";
        ContinueFrom = continueFrom;
        PreviousOffset = previousOffset;
        Projects = projects ?? [];
        Type = EventType;
        Offset = continueFrom;
        Payload = JsonSerializer.SerializeToElement(new Dictionary<string, string>
        {
            ["reason"] = reason, ["message"] = Message, ["offset"] = continueFrom,
        }, ClientJsonContext.Default.DictionaryStringString);
        CreatedAt = receivedAt;
    }

    /// <summary>Why the hub reset the stream: one of <see cref="Reasons"/> (a reset reason of <see cref="ErrorContract"/>).</summary>
    public string Reason { get; }

    /// <summary>The hub's explanation, for a log or a person.</summary>
    public string Message { get; }

    /// <summary>The offset the stream continues after (the hub's head when it reset the stream).</summary>
    public string ContinueFrom { get; }

    /// <summary>The offset the hub could not continue from.</summary>
    public string? PreviousOffset { get; }

    /// <summary>The projects whose state to refetch: the stream's projects, or empty for every project.</summary>
    public IReadOnlyList<string> Projects { get; }

    /// <inheritdoc />
    public override string ToString() => $"reset ({Reason}): continue from {ContinueFrom}";
}
