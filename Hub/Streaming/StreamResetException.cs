namespace EventHub.Streaming;

/// <summary>
/// The stream cannot continue from the client's offset without a gap: the offset belongs to
/// another log (another database, or one restored since), or retention pruned events after it.
/// The client must refetch its state, then continue from <see cref="ContinueFrom"/>. Transports
/// turn this into an explicit reset signal (SSE <c>event: reset</c>; a hub notice and stream
/// error); it is never skipped quietly.
/// </summary>
public sealed class StreamResetException(string reason, string message, string continueFrom) : Exception(message)
{
    /// <summary><see cref="ResetReasons.ForeignLog"/> or <see cref="ResetReasons.Pruned"/>.</summary>
    public string Reason { get; } = reason;

    /// <summary>The offset to continue from once the client has refetched its state (this log's head).</summary>
    public string ContinueFrom { get; } = continueFrom;
}

/// <summary>Why a stream was reset.</summary>
public static class ResetReasons
{
    public const string ForeignLog = "offset_from_another_log";
    public const string Pruned = "offset_pruned";
    public const string OffsetFormatChanged = "offset_format_changed";
}
