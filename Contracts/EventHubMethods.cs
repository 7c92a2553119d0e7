namespace EventHub.Contracts;

/// <summary>Names of the hub methods a client invokes.</summary>
public static class EventHubMethods
{
    /// <summary>
    /// Server-to-client stream of <see cref="ChangeEvent"/>, taking one <see cref="StreamEventsRequest"/>.
    /// A request that cannot be served ends the stream with a HubException whose message starts
    /// with a stable error code (for example <c>invalid_offset:</c>) and says what to fix.
    /// </summary>
    public const string StreamEvents = "StreamEvents";
}
