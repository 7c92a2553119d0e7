namespace EventHub.Client;

/// <summary>
/// Decides how long an <see cref="EventHubClient"/> waits before each reconnect attempt, and when
/// it gives up. Called once per attempt, on the enumerating thread; it must not block.
/// </summary>
public interface IEventHubReconnectPolicy
{
    /// <summary>
    /// The delay before the next attempt, or null to give up: the enumeration then throws an
    /// <see cref="EventHubConnectionException"/> carrying <see cref="EventHubReconnectContext.LastError"/>.
    /// </summary>
    /// <param name="context">Which attempt this is, since when the client has been reconnecting, and why.</param>
    TimeSpan? NextDelay(EventHubReconnectContext context);
}
