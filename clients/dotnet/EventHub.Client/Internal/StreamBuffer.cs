using System.Threading.Channels;
using EventHub.Contracts;

namespace EventHub.Client.Internal;

/// <summary>
/// Bounds what the client holds of one stream. SignalR's client queues every item the hub sends
/// in a channel without bound and reads the socket whatever the application does, so the hub's
/// own back-pressure never reaches it: an application slower than its stream (a catch-up of a
/// large log, read by a slow consumer) held all of it. A pump moves SignalR's items into a channel
/// of <c>capacity</c> as they arrive; when that is full it cancels the stream (the hub stops
/// sending; SignalR drops what arrives for it after that) and goes on moving what SignalR had
/// received before. The buffer's reader then ends without an error and <see cref="Paused"/> is
/// set: the client opens the stream again after the last event it yielded, so nothing is lost or
/// repeated (offsets are exact) and at most <c>capacity</c> events, plus what was in flight when
/// the stream was cancelled, are held.
/// </summary>
internal sealed class StreamBuffer : IAsyncDisposable
{
    private readonly Channel<ChangeEvent> _channel;
    private readonly CancellationTokenSource _stream;
    private readonly CancellationTokenSource _stopped = new();
    private readonly Task _pump;
    private int _paused;
    private int _disposed;

    /// <param name="source">The stream's items as SignalR delivers them.</param>
    /// <param name="capacity">The most events held here.</param>
    /// <param name="stream">Cancels the stream (SignalR's invocation); owned by the buffer from now on.</param>
    public StreamBuffer(ChannelReader<ChangeEvent> source, int capacity, CancellationTokenSource stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _channel = Channel.CreateBounded<ChangeEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _stream = stream;
        _pump = PumpAsync(source);
    }

    /// <summary>What the client reads: the stream's items in order; it ends when the stream does.</summary>
    public ChannelReader<ChangeEvent> Reader => _channel.Reader;

    /// <summary>Whether the buffer filled and cancelled the stream: its end is then no loss, only a pause.</summary>
    public bool Paused => Volatile.Read(ref _paused) == 1;

    private async Task PumpAsync(ChannelReader<ChangeEvent> source)
    {
        await Task.Yield(); // not on the caller's stack
        try
        {
            while (await source.WaitToReadAsync(_stopped.Token).ConfigureAwait(false))
            {
                while (source.TryRead(out var item))
                {
                    if (_channel.Writer.TryWrite(item)) continue;
                    if (Interlocked.Exchange(ref _paused, 1) == 0)
                        await _stream.CancelAsync().ConfigureAwait(false);
                    await _channel.Writer.WriteAsync(item, _stopped.Token).ConfigureAwait(false);
                }
            }
            _channel.Writer.TryComplete();
        }
        catch (OperationCanceledException) when (Paused || _stopped.IsCancellationRequested)
        {
            // SignalR ends a cancelled stream with this, after the items it had received.
            _channel.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _channel.Writer.TryComplete(e); // the connection's loss, as SignalR reported it
        }
    }

    /// <summary>Stops the pump (the stream is given up: a reconnect, the end of the enumeration). Once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stopped.CancelAsync().ConfigureAwait(false);
        await _pump.ConfigureAwait(false);
        _stream.Dispose();
        _stopped.Dispose();
    }
}
