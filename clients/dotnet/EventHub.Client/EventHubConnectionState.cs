namespace EventHub.Client;

/// <summary>Where an <see cref="EventHubClient"/> stands, for status overlays (<see cref="EventHubClient.StateChanged"/>).</summary>
public enum EventHubConnectionState
{
    /// <summary>Not streaming: before the first read, after the enumeration ended, or after an error that is not retried.</summary>
    Stopped,

    /// <summary>The first connection is being made.</summary>
    Connecting,

    /// <summary>Connected, and the stream was requested from the hub; events flow as they are committed.</summary>
    Live,

    /// <summary>
    /// The connection or the stream was lost, or the hub refused a connection with a code that is
    /// retried (a connection limit, <c>unavailable</c>); the client waits per its reconnect policy
    /// and resumes after the last event it yielded.
    /// </summary>
    Reconnecting,
}
