namespace EventHub.Streaming.Policy;

/// <summary>
/// The outcome of <see cref="StreamPolicy.OpenAsync"/>: exactly one of an open
/// <see cref="Session"/>, a <see cref="Refusal"/> (nothing was opened) or a <see cref="Reset"/>
/// (the offset cannot be continued without a gap: the client refetches its state and continues
/// from <see cref="StreamResetException.ContinueFrom"/>).
/// </summary>
public sealed class StreamOpening
{
    private StreamOpening(StreamSession? session, StreamRefusal? refusal, StreamResetException? reset,
        IReadOnlyList<string> projects)
    {
        Session = session;
        Refusal = refusal;
        Reset = reset;
        Projects = projects;
    }

    public StreamSession? Session { get; }
    public StreamRefusal? Refusal { get; }
    public StreamResetException? Reset { get; }

    /// <summary>The projects the caller was granted (empty: every project, or not authorized yet).</summary>
    public IReadOnlyList<string> Projects { get; }

    internal static StreamOpening Opened(StreamSession session) => new(session, null, null, session.Projects);
    internal static StreamOpening Refused(StreamRefusal refusal) => new(null, refusal, null, []);
    internal static StreamOpening ResetAt(StreamResetException reset, IReadOnlyList<string> projects) => new(null, null, reset, projects);
}
