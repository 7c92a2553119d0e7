namespace EventHub.Contracts;

/// <summary>Names of the hub methods a client invokes.</summary>
public static class EventHubMethods
{
    /// <summary>
    /// Server-to-client stream of <see cref="ChangeEvent"/>, taking one <see cref="StreamEventsRequest"/>.
    /// With <see cref="StreamEventsRequest.SignalItems"/>, how the stream ended (a refusal, a reset,
    /// token expiry, the server stopping) is its final item, a <see cref="StreamSignal"/> with a code
    /// of <see cref="ErrorContract"/>; without it, a HubException whose message starts with the
    /// code (for example <c>invalid_offset:</c>) and says what to fix.
    /// </summary>
    public const string StreamEvents = "StreamEvents";

    /// <summary>
    /// Returns the offset of the log's head: the position "now". A client that wants events from
    /// now on asks for it first and streams after it, so that a reconnect before the first event
    /// resumes from there instead of from a later "now" (which would skip what came between).
    /// Over HTTP: <c>GET /api/v1/events/head</c> returns <c>{"offset":"..."}</c>.
    /// </summary>
    public const string GetHeadOffset = "GetHeadOffset";

    /// <summary>
    /// Returns the <see cref="LiveState"/> of the projects and types a <see cref="StreamEventsRequest"/>
    /// selects (its <c>After</c> is ignored), authorized like the stream.
    /// </summary>
    public const string GetState = "GetState";

    /// <summary>
    /// The same state as <see cref="GetState"/>, as a server-to-client stream of
    /// <see cref="LiveStatePage"/> items sent while the hub reads the state (the first carries the
    /// state's header, the last the entity count; the stream's end is the state's end). Authorized and refused like
    /// <see cref="GetState"/> (a HubException whose message starts with the code), and counted
    /// against the connection's streams while it runs. The .NET client reads the state this way:
    /// one message of a large state is slow for SignalR's .NET client to receive.
    /// </summary>
    public const string StreamState = "StreamState";
}
