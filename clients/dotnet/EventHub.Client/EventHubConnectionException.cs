namespace EventHub.Client;

/// <summary>
/// The client could not reach the hub: the first connection failed (and
/// <see cref="EventHubClientOptions.RetryInitialConnection"/> is off), it was refused without one
/// of the hub's codes (400, 403 or 404: a wrong URL, or not the hub), or the reconnect policy gave
/// up. A refusal with the hub's code (a 401 <c>unauthenticated</c> or <c>token_expired</c>, a 403
/// <c>host_not_allowed</c>) is an <see cref="EventHubRequestException"/>. <see cref="Exception.InnerException"/>
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

    /// <summary>Creates the exception for a stream the hub ended with a code it is retried on.</summary>
    /// <param name="code">The hub's error code (for example <c>token_expired</c>, <c>unavailable</c>).</param>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public EventHubConnectionException(string code, string message, Exception? innerException) : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>
    /// The hub's error code when the hub ended the stream with one that is retried (as
    /// <see cref="EventHubClient.StateChanged"/>'s error while reconnecting: <c>token_expired</c> is a
    /// routine token refresh, <c>unavailable</c> its database); null for a lost connection.
    /// </summary>
    public string? Code { get; }
}
