namespace EventHub.Client;

/// <summary>The base of the errors an <see cref="EventHubClient"/> enumeration ends with.</summary>
public abstract class EventHubException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong and what to do about it.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    protected EventHubException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}
