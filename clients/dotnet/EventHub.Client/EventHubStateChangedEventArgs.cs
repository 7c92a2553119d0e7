namespace EventHub.Client;

/// <summary>A change of <see cref="EventHubClient.State"/>.</summary>
/// <param name="previous">The state before the change.</param>
/// <param name="current">The state now.</param>
/// <param name="error">What caused a move to <see cref="EventHubConnectionState.Reconnecting"/> or <see cref="EventHubConnectionState.Stopped"/>, if anything failed.</param>
public sealed class EventHubStateChangedEventArgs(EventHubConnectionState previous, EventHubConnectionState current, Exception? error) : EventArgs
{
    /// <summary>The state before the change.</summary>
    public EventHubConnectionState Previous { get; } = previous;

    /// <summary>The state now.</summary>
    public EventHubConnectionState Current { get; } = current;

    /// <summary>What caused the change when something failed (a dropped connection, a rejected request); otherwise null.</summary>
    public Exception? Error { get; } = error;
}
