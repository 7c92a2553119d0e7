namespace EventHub.Log;

/// <summary>
/// A transport's encoding of an event (an SSE frame, a SignalR message), made once per event and
/// shared by every subscriber of that transport: <see cref="LogEvent.Encoded{T}"/> keeps it on the
/// event, keyed by this object, without the log layer knowing what it is.
/// </summary>
/// <remarks>
/// The encodings used to hang off the events in <c>ConditionalWeakTable</c>s: every event a
/// catch-up read created took a dependent GC handle under the table's lock, and ten clients
/// catching up spent more time waiting for that lock (and the finalizer for the tables' old
/// containers) than writing (a profile of the bench's catch-up). On the event, an encoding lives
/// exactly as long as its event, as before, at the cost of one reference per event.
/// </remarks>
public abstract class EventEncoding<T> where T : class
{
    /// <summary>Builds the encoding of <paramref name="e"/>; pure, so two threads that race build equal values.</summary>
    public abstract T Encode(LogEvent e);
}
