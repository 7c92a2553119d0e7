using System.Collections.Concurrent;

namespace EventHub.SignalR.Internal;

/// <summary>
/// The queues of this node's open SignalR streams, for the payload bytes they hold
/// (<c>eventhub.signalr.queued.bytes</c>). Summed when read: a counter shared by every stream would
/// be two interlocked writes to one cache line per item delivered, on every core.
/// </summary>
public sealed class StreamQueueTotals
{
    private readonly ConcurrentDictionary<StreamItemQueue, byte> _queues = new();

    /// <summary>The payload bytes queued in every open stream now.</summary>
    public long QueuedBytes => _queues.Keys.Sum(q => q.QueuedBytes);

    /// <summary>The streams counted: those open, and those whose last items SignalR is still sending.</summary>
    public int Streams => _queues.Count;

    internal void Add(StreamItemQueue queue) => _queues.TryAdd(queue, 0);

    internal void Remove(StreamItemQueue queue) => _queues.TryRemove(queue, out _);
}
