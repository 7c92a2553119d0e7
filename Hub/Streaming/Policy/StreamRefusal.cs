namespace EventHub.Streaming.Policy;

/// <summary>
/// Why a stream (or a head-offset request) was not served: <see cref="StatusCode"/> is what the
/// SSE endpoint answers with the JSON error body; the hub sends <c>{Code}: {Message}</c> as a
/// HubException. <see cref="Message"/> is written for the client and never carries server
/// exception text.
/// </summary>
public sealed record StreamRefusal(int StatusCode, string Code, string Message)
{
    /// <summary>The code of a refusal caused by the database, not by the request.</summary>
    public const string Unavailable = EventHub.Contracts.ErrorCodes.Unavailable;
}

/// <summary>Thrown by <see cref="StreamPolicy.AcquireConnection"/> when a limit refuses a connection.</summary>
public sealed class StreamRefusedException(StreamRefusal refusal) : Exception(refusal.Message)
{
    public StreamRefusal Refusal { get; } = refusal;
}
