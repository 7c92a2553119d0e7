using EventHub.Contracts;
using EventHub.SignalR.Internal;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.SignalR;

/// <summary>
/// A SignalR stream's queue (<see cref="StreamItemQueue"/>): bounded by items and by payload bytes
/// past the first, every item read once in order, and no writer left waiting for room that a read
/// has made.
/// </summary>
public sealed class StreamItemQueueTests
{
    private static ChangeEvent Item(long seq) => new() { Seq = seq, Offset = seq.ToString() };

    private static List<long> ReadAll(StreamItemQueue queue)
    {
        var seqs = new List<long>();
        while (queue.Reader.TryRead(out var item)) seqs.Add(item.Seq);
        return seqs;
    }

    private static long ReadOne(StreamItemQueue queue)
    {
        Assert.True(queue.Reader.TryRead(out var item));
        return item.Seq;
    }

    [Fact]
    public async Task Items_queue_up_to_the_payload_bound_and_the_next_waits_for_a_read()
    {
        var queue = new StreamItemQueue(capacity: 128, payloadCapacity: 300);
        for (var i = 1; i <= 3; i++)
            Assert.True(queue.WriteAsync(Item(i), 100, CancellationToken.None).IsCompletedSuccessfully);
        Assert.Equal(300, queue.QueuedBytes);

        var fourth = queue.WriteAsync(Item(4), 100, CancellationToken.None).AsTask();
        Assert.False(fourth.IsCompleted); // nothing else can complete it: the reader has not read

        Assert.True(queue.Reader.TryRead(out var first));
        Assert.Equal(1, first.Seq);
        await fourth.WithTimeout();
        Assert.Equal(300, queue.QueuedBytes);
        Assert.Equal([2, 3, 4], ReadAll(queue));
        Assert.Equal(0, queue.QueuedBytes);
    }

    [Fact]
    public async Task An_item_larger_than_the_bound_is_queued_alone()
    {
        var queue = new StreamItemQueue(capacity: 128, payloadCapacity: 1_000);
        Assert.True(queue.WriteAsync(Item(1), 10, CancellationToken.None).IsCompletedSuccessfully);
        var large = queue.WriteAsync(Item(2), 5_000, CancellationToken.None).AsTask();
        Assert.False(large.IsCompleted);
        // One read, not a drain: the read wakes the writer on another thread, which may queue its
        // item before a second read would look.
        Assert.Equal(1, ReadOne(queue));
        await large.WithTimeout(); // the queue is empty: the large item goes in, past the bound

        var small = queue.WriteAsync(Item(3), 1, CancellationToken.None).AsTask();
        Assert.False(small.IsCompleted); // past the bound: even a small one waits
        Assert.Equal(2, ReadOne(queue));
        await small.WithTimeout();
        Assert.Equal([3], ReadAll(queue));
    }

    [Fact]
    public async Task Small_items_are_bounded_by_count()
    {
        var queue = new StreamItemQueue(capacity: 4, payloadCapacity: 1_000_000);
        for (var i = 1; i <= 4; i++)
            Assert.True(queue.WriteAsync(Item(i), 10, CancellationToken.None).IsCompletedSuccessfully);
        var fifth = queue.WriteAsync(Item(5), 10, CancellationToken.None).AsTask();
        Assert.False(fifth.IsCompleted);
        Assert.True(queue.Reader.TryRead(out _));
        await fifth.WithTimeout();
        Assert.Equal([2, 3, 4, 5], ReadAll(queue));
    }

    [Fact]
    public async Task A_read_between_the_writer_finding_no_room_and_waiting_for_it_still_wakes_the_writer()
    {
        // The race: SignalR's sender takes the last items after the writer found no room and before
        // it stored its signal, so the read completes nothing. Without the writer's second look it
        // waits for a read that never comes (the sender has nothing left to read).
        var queue = new StreamItemQueue(capacity: 128, payloadCapacity: 200);
        await queue.WriteAsync(Item(1), 100, CancellationToken.None);
        await queue.WriteAsync(Item(2), 100, CancellationToken.None);
        var drained = new List<long>();
        queue.OnFull = () => drained.AddRange(ReadAll(queue));

        await queue.WriteAsync(Item(3), 100, CancellationToken.None).AsTask().WithTimeout(TimeSpan.FromSeconds(5));
        Assert.Equal([1, 2], drained);
        Assert.Equal([3], ReadAll(queue));
    }

    [Fact]
    public async Task A_writer_and_a_reader_at_full_speed_pass_every_item_once_in_order()
    {
        var queue = new StreamItemQueue(capacity: 16, payloadCapacity: 1_000);
        const int Items = 100_000;
        var writer = Task.Run(async () =>
        {
            for (var i = 1; i <= Items; i++) await queue.WriteAsync(Item(i), 1 + i % 400, CancellationToken.None);
            queue.TryComplete();
        });
        var next = 1L;
        await foreach (var item in queue.Reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(TaskTimeouts.Default).Token))
        {
            Assert.Equal(next++, item.Seq);
            Assert.True(queue.QueuedBytes <= 1_000 + 400);
        }
        await writer.WithTimeout();
        Assert.Equal(Items + 1, next);
        Assert.Equal(0, queue.QueuedBytes);
    }

    [Fact]
    public async Task A_queue_is_done_when_the_sender_has_taken_its_end_or_it_is_abandoned()
    {
        var abandoned = new StreamItemQueue(capacity: 128, payloadCapacity: 1_000);
        await abandoned.WriteAsync(Item(1), 300, CancellationToken.None);
        abandoned.TryComplete();
        using var gone = new CancellationTokenSource();
        var done = abandoned.ReadOrAbandonedAsync(gone.Token);
        Assert.False(done.IsCompleted); // the item may still be sent
        gone.Cancel();
        await done.WithTimeout();

        var read = new StreamItemQueue(capacity: 128, payloadCapacity: 1_000);
        await read.WriteAsync(Item(1), 300, CancellationToken.None);
        read.TryComplete(new InvalidOperationException("the stream's end"));
        var readToEnd = read.ReadOrAbandonedAsync(CancellationToken.None);
        Assert.False(readToEnd.IsCompleted);
        Assert.Equal([1], ReadAll(read));
        // Read, but the sender is still writing the item until it asks for more and hears of the end.
        Assert.False(readToEnd.IsCompleted);
        await Assert.ThrowsAsync<InvalidOperationException>(() => read.Reader.WaitToReadAsync().AsTask());
        await readToEnd.WithTimeout();

        var ended = new StreamItemQueue(capacity: 128, payloadCapacity: 1_000);
        var waiting = ended.Reader.WaitToReadAsync().AsTask(); // the sender, waiting on an empty queue
        var endTaken = ended.ReadOrAbandonedAsync(CancellationToken.None);
        ended.TryComplete();
        Assert.False(await waiting.WithTimeout());
        await endTaken.WithTimeout();
    }
}
