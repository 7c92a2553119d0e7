using System.Threading.Channels;
using EventHub.Log;

namespace EventHub.Streaming;

/// <summary>
/// One stream's place in the fan-out: its filter and its bounded buffer of live events.
/// The fan-out (single writer: the tail) offers events; the stream (single reader) takes them.
/// </summary>
/// <remarks>
/// When the buffer is full the subscription becomes <em>lagged</em>: it takes no more live
/// events, and its reader, after draining what is buffered, re-arms it and reads the missed
/// events from the log. The fan-out never blocks and never grows a buffer for a slow reader.
/// </remarks>
public sealed class Subscription
{
    private readonly Channel<LogEvent> _buffer;
    private int _lagged;

    public Subscription(EventFilter filter, int capacity)
    {
        Filter = filter;
        _buffer = Channel.CreateBounded<LogEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; nothing is dropped silently
            AllowSynchronousContinuations = false,  // never run a reader's continuation on the tail's thread
        });
    }

    public EventFilter Filter { get; }

    /// <summary>Whether live events were refused since the last <see cref="Rearm"/>.</summary>
    public bool IsLagged => Volatile.Read(ref _lagged) == 1;

    /// <summary>How many times the buffer overflowed (for metrics and tests).</summary>
    public int LagCount { get; private set; }

    /// <summary>
    /// Offers a live event routed to this subscription's project. Called only by the fan-out.
    /// Returns true when this offer found the buffer full and made the subscription lagged.
    /// </summary>
    internal bool Offer(LogEvent e)
    {
        if (Volatile.Read(ref _lagged) == 1 || !Filter.MatchesType(e.Type)) return false;
        if (_buffer.Writer.TryWrite(e)) return false;
        LagCount++;
        Volatile.Write(ref _lagged, 1);
        return true;
    }

    /// <summary>Clears the lagged state; the caller then reads the log from its last position.</summary>
    internal void Rearm() => Volatile.Write(ref _lagged, 0);

    internal bool TryRead(out LogEvent e) => _buffer.Reader.TryRead(out e!);

    internal ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) =>
        _buffer.Reader.WaitToReadAsync(cancellationToken);

    internal void Complete() => _buffer.Writer.TryComplete();
}
