using System.Collections.Concurrent;

namespace EventHub.SignalR.Internal;

/// <summary>
/// The queues of this node's open SignalR streams, for the payload bytes they hold
/// (<c>eventhub.signalr.queued.bytes</c>) and for a stop that waits until SignalR has taken each
/// stream's last item (<see cref="SignalRStreamsStopDrain"/>). Summed when read: a counter shared
/// by every stream would be two interlocked writes to one cache line per item delivered, on every core.
/// </summary>
public sealed class StreamQueueTotals
{
    // The value completes when the stream's pump removes its queue: SignalR's sender has taken the
    // queue's end (its last item written), or nobody will read the rest.
    private readonly ConcurrentDictionary<StreamItemQueue, TaskCompletionSource> _queues = new();

    /// <summary>The payload bytes queued in every open stream now.</summary>
    public long QueuedBytes => _queues.Keys.Sum(q => q.QueuedBytes);

    /// <summary>The streams counted: those open, and those whose last items SignalR is still sending.</summary>
    public int Streams => _queues.Count;

    internal void Add(StreamItemQueue queue) =>
        _queues.TryAdd(queue, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    internal void Remove(StreamItemQueue queue)
    {
        if (_queues.TryRemove(queue, out var removed)) removed.TrySetResult();
    }

    /// <summary>Completes once every stream counted now has been removed (streams opened later are not waited for).</summary>
    internal Task AllRemovedAsync() => Task.WhenAll(_queues.Values.Select(q => q.Task));
}
