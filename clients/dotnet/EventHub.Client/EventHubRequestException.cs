namespace EventHub.Client;

/// <summary>
/// The hub rejected the stream request (a bad offset, project or type): retrying the same request
/// cannot help, so the client stops instead of reconnecting. <see cref="Code"/> is the hub's stable
/// error code (for example <c>invalid_offset</c> or <c>offset_out_of_range</c>; a reset is not an error
/// but a <see cref="StreamReset"/> item).
/// </summary>
public sealed class EventHubRequestException : EventHubException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The hub's error code, or <c>request_failed</c> when the hub gave none.</param>
    /// <param name="message">The hub's explanation of what to fix.</param>
    /// <param name="innerException">The hub's error as SignalR reported it.</param>
    public EventHubRequestException(string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The hub's stable error code, for example <c>invalid_offset</c>.</summary>
    public string Code { get; }
}
