using EventHub.Log;
using EventHub.Streaming.Internal;

namespace EventHub.Streaming;

/// <summary>
/// In-memory fan-out of live events, routed per project.
/// </summary>
/// <remarks>
/// Contract:
/// <list type="bullet">
/// <item>One publisher (the tail) calls <see cref="Publish"/> in position order.</item>
/// <item>An event costs work only for subscriptions of its project (and those of all projects).</item>
/// <item><see cref="Subscribe"/> returns the <em>head</em>: the last position published before the
/// subscription was added. Every event after the head reaches the subscription (or makes it
/// lagged); none at or before it does. A caller that reads the log up to the head therefore
/// misses nothing.</item>
/// <item><see cref="Rearm"/> clears a lagged subscription and returns the head in the same sense.</item>
/// </list>
/// </remarks>
public interface IEventFanout
{
    LogPosition Head { get; }
    LogPosition Subscribe(Subscription subscription);
    void Unsubscribe(Subscription subscription);
    LogPosition Rearm(Subscription subscription);
    void Publish(LogEvent e);
    /// <summary>
    /// Moves the head past events that were not published because there were none: to the end of
    /// the last tick the tail read. Never moves it back.
    /// </summary>
    void Advance(LogPosition head);
    /// <summary>Sets the head before the first event is published (the tail's starting point).</summary>
    void Initialize(LogPosition head);
    int SubscriberCount { get; }
    /// <summary>How many times a subscription's buffer overflowed (slow-consumer actions).</summary>
    long LaggedTotal { get; }
}
