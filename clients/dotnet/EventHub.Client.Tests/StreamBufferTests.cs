using System.Threading.Channels;
using EventHub.Client.Internal;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary>
/// The client's bound on one stream (<see cref="StreamBuffer"/>), against a source that behaves as
/// SignalR's client stream does: unbounded, and completed with an <see cref="OperationCanceledException"/>
/// when its token is cancelled, the items it had received still readable.
/// </summary>
public sealed class StreamBufferTests
{
    private static ChangeEvent Item(long seq) => new() { Seq = seq, Offset = seq.ToString() };

    /// <summary>A SignalR-like stream: cancelling its token completes it with OperationCanceledException.</summary>
    private static (Channel<ChangeEvent> Source, CancellationTokenSource Stream, Task Cancelled) SignalRStream()
    {
        var source = Channel.CreateUnbounded<ChangeEvent>();
        var stream = new CancellationTokenSource();
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stream.Token.Register(() =>
        {
            source.Writer.TryComplete(new OperationCanceledException());
            cancelled.TrySetResult();
        });
        return (source, stream, cancelled.Task);
    }

    private static async Task<List<long>> ReadToEndAsync(ChannelReader<ChangeEvent> reader)
    {
        var seqs = new List<long>();
        await foreach (var item in reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(TaskTimeouts.Default).Token))
            seqs.Add(item.Seq);
        return seqs;
    }

    [Fact]
    public async Task A_stream_read_as_fast_as_it_comes_is_passed_on_whole_and_never_paused()
    {
        var (source, stream, _) = SignalRStream();
        await using var buffer = new StreamBuffer(source.Reader, capacity: 4, stream);
        var reading = ReadToEndAsync(buffer.Reader);
        for (var i = 1; i <= 3; i++) source.Writer.TryWrite(Item(i));
        source.Writer.TryComplete();
        Assert.Equal([1, 2, 3], await reading.WithTimeout());
        Assert.False(buffer.Paused);
        Assert.False(stream.IsCancellationRequested);
    }

    [Fact]
    public async Task A_full_buffer_cancels_the_stream_and_still_passes_on_what_had_arrived_then_ends_as_a_pause()
    {
        var (source, stream, cancelled) = SignalRStream();
        for (var i = 1; i <= 10; i++) source.Writer.TryWrite(Item(i)); // arrived before anyone reads
        await using var buffer = new StreamBuffer(source.Reader, capacity: 4, stream);

        await cancelled.WithTimeout(); // a full buffer cancels the stream
        Assert.True(buffer.Paused);
        Assert.False(source.Writer.TryWrite(Item(11))); // SignalR drops what arrives after the cancel
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), await ReadToEndAsync(buffer.Reader).WithTimeout());
    }

    [Fact]
    public async Task A_lost_connection_ends_the_buffer_with_its_error_after_the_items_before_it()
    {
        var (source, stream, _) = SignalRStream();
        await using var buffer = new StreamBuffer(source.Reader, capacity: 4, stream);
        source.Writer.TryWrite(Item(1));
        source.Writer.TryComplete(new IOException("the connection was lost"));
        Assert.True(await buffer.Reader.WaitToReadAsync().AsTask().WithTimeout());
        Assert.True(buffer.Reader.TryRead(out var first));
        Assert.Equal(1, first.Seq);
        await Assert.ThrowsAsync<IOException>(async () => await buffer.Reader.WaitToReadAsync().AsTask().WithTimeout());
        Assert.False(buffer.Paused);
    }

    [Fact]
    public async Task Disposing_stops_a_pump_that_waits_for_room()
    {
        var (source, stream, _) = SignalRStream();
        for (var i = 1; i <= 10; i++) source.Writer.TryWrite(Item(i));
        var buffer = new StreamBuffer(source.Reader, capacity: 2, stream);
        await TaskTimeouts.UntilAsync(() => buffer.Paused); // the pump now waits for room nobody makes
        await buffer.DisposeAsync().AsTask().WithTimeout();
    }
}
