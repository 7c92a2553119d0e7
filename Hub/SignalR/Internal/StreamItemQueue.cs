using System.Threading.Channels;
using EventHub.Contracts;

namespace EventHub.SignalR.Internal;

/// <summary>
/// One SignalR stream's queue between its pump (the single writer) and SignalR's sender, which
/// reads <see cref="Reader"/>. Bounded by a number of items and by their payload bytes past the
/// first item: items of a few hundred bytes fill the count long before the bytes, while 128 items
/// of a megabyte held for one slow client would be 128 MB. When either bound is reached the pump
/// waits, the stream's own live buffer fills and the stream falls back to reading the log, so a
/// slow client costs bounded memory and loses nothing.
/// </summary>
/// <remarks>
/// The byte count is taken off when SignalR's sender takes an item (<see cref="Reader"/>'s
/// <c>TryRead</c>), so what is counted is what waits here, not what is being sent.
/// </remarks>
internal sealed class StreamItemQueue
{
    private readonly Channel<Queued> _channel;
    private readonly long _payloadCapacity;
    private long _queuedBytes;
    // Set by a writer that waits for room, completed by the read that makes it (see WriteAsync).
    private TaskCompletionSource? _room;

    /// <param name="capacity">The most items queued.</param>
    /// <param name="payloadCapacity">The most payload bytes queued past the first item.</param>
    public StreamItemQueue(int capacity, long payloadCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(payloadCapacity, 1);
        _channel = Channel.CreateBounded<Queued>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true, // SignalR's sender
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _payloadCapacity = payloadCapacity;
        Reader = new QueueReader(this);
    }

    /// <summary>What SignalR's sender reads.</summary>
    public ChannelReader<ChangeEvent> Reader { get; }

    /// <summary>The payload bytes of the items queued now.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>
    /// Queues <paramref name="item"/> (of <paramref name="payloadSize"/> payload bytes), waiting while
    /// the queue is full by count, or by bytes unless it is empty. One writer at a time.
    /// </summary>
    public ValueTask WriteAsync(ChangeEvent item, int payloadSize, CancellationToken cancellationToken)
    {
        // The common case allocates nothing: room by bytes and by count.
        if (HasRoomFor(payloadSize))
        {
            Add(payloadSize);
            if (_channel.Writer.TryWrite(new Queued(item, payloadSize))) return ValueTask.CompletedTask;
            Add(-payloadSize);
        }
        return WriteSlowAsync(item, payloadSize, cancellationToken);
    }

    private async ValueTask WriteSlowAsync(ChangeEvent item, int payloadSize, CancellationToken cancellationToken)
    {
        while (!HasRoomFor(payloadSize))
        {
            OnFull?.Invoke();
            var room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref _room, room); // a full fence: the check below reads after the store
            // The race: the reader takes the last item between the check above and the store, finds
            // no one waiting and completes nothing; this writer would then wait forever. So look
            // again after storing the signal; a read after the store completes it.
            if (HasRoomFor(payloadSize))
            {
                Interlocked.CompareExchange(ref _room, null, room);
                break;
            }
            await room.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        Add(payloadSize);
        try
        {
            await _channel.Writer.WriteAsync(new Queued(item, payloadSize), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Add(-payloadSize);
            throw;
        }
    }

    /// <summary>
    /// Test seam: runs on the writer once it has found no room by bytes, before it stores its
    /// signal, so a test can put the reader's drain exactly there.
    /// </summary>
    internal Action? OnFull { get; set; }

    /// <summary>Completes the queue: SignalR sends what is queued, then ends the stream (with <paramref name="error"/>, if any).</summary>
    public bool TryComplete(Exception? error = null) => _channel.Writer.TryComplete(error);

    /// <summary>
    /// Completes when SignalR's sender has taken the queue's end (it has sent every item and asked
    /// for more after the queue completed, so what follows is its completion message), or when
    /// <paramref name="gone"/> is cancelled (the stream cancelled, the connection closed: nothing
    /// will read the rest). Until then the queue's bytes are the stream's.
    /// </summary>
    public async Task ReadOrAbandonedAsync(CancellationToken gone)
    {
        try
        {
            await _endTaken.Task.WaitAsync(gone).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Abandoned: nothing will read the rest.
        }
    }

    // Set when the sender's wait for more reports the end (false, or the stream's error): SignalR
    // awaits each item's write before it asks again, so by then the last item is on its connection.
    private readonly TaskCompletionSource _endTaken = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private bool HasRoomFor(int payloadSize)
    {
        var queued = Interlocked.Read(ref _queuedBytes);
        return queued == 0 || queued + payloadSize <= _payloadCapacity;
    }

    private void Add(long bytes) => Interlocked.Add(ref _queuedBytes, bytes);

    private bool TryRead(out ChangeEvent item)
    {
        if (!_channel.Reader.TryRead(out var queued))
        {
            item = null!;
            return false;
        }
        Add(-queued.PayloadSize); // a full fence: the writer's signal is read after the count
        if (Volatile.Read(ref _room) is not null) Interlocked.Exchange(ref _room, null)?.TrySetResult();
        item = queued.Item;
        return true;
    }

    private readonly record struct Queued(ChangeEvent Item, int PayloadSize);

    private sealed class QueueReader(StreamItemQueue queue) : ChannelReader<ChangeEvent>
    {
        public override Task Completion => queue._channel.Reader.Completion;
        public override bool CanCount => true;
        public override int Count => queue._channel.Reader.Count;
        public override bool TryRead(out ChangeEvent item) => queue.TryRead(out item);

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            var wait = queue._channel.Reader.WaitToReadAsync(cancellationToken);
            if (!wait.IsCompletedSuccessfully) return ObserveAsync(wait, cancellationToken);
            // A ValueTask is read once: its source may be reused as soon as it is.
            var more = wait.Result;
            if (!more) queue._endTaken.TrySetResult();
            return new ValueTask<bool>(more);
        }

        // Pooled: a stream waits here every time its queue runs empty.
        [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<bool> ObserveAsync(ValueTask<bool> wait, CancellationToken cancellationToken)
        {
            try
            {
                var more = await wait.ConfigureAwait(false);
                if (!more) queue._endTaken.TrySetResult();
                return more;
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                // The queue completed with the stream's error: the sender's end too.
                queue._endTaken.TrySetResult();
                throw;
            }
        }
    }
}
