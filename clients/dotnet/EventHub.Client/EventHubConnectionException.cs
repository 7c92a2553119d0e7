namespace EventHub.Client;

/// <summary>
/// The client could not reach the hub: the first connection failed (and
/// <see cref="EventHubClientOptions.RetryInitialConnection"/> is off), the hub refused it (for
/// example 401 or 404), or the reconnect policy gave up. <see cref="Exception.InnerException"/>
/// is the last failure.
/// </summary>
public sealed class EventHubConnectionException : EventHubException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed and what to check.</param>
    /// <param name="innerException">The last underlying failure.</param>
    public EventHubConnectionException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}
