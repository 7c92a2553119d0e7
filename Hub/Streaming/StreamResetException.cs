using EventHub.Contracts;

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
    /// <summary>One of <see cref="ResetReasons"/>.</summary>
    public string Reason { get; } = reason;

    /// <summary>The offset to continue from once the client has refetched its state (this log's head).</summary>
    public string ContinueFrom { get; } = continueFrom;
}

/// <summary>Why a stream was reset: the reset reasons of the contract (<see cref="ErrorCodes"/>, <see cref="ErrorKind.Reset"/>).</summary>
public static class ResetReasons
{
    /// <summary>The offset belongs to another log (another database, or one re-created since).</summary>
    public const string ForeignLog = ErrorCodes.OffsetFromAnotherLog;
    /// <summary>Retention pruned events after the offset.</summary>
    public const string Pruned = ErrorCodes.OffsetPruned;
    /// <summary>An offset in a format this log no longer issues; refetch and continue from the offset given.</summary>
    public const string OffsetFormatChanged = ErrorCodes.OffsetFormatChanged;
}
