using System.Threading.Channels;
using EventHub.Log;

namespace EventHub.Streaming.Internal;

/// <summary>
/// One stream's place in the fan-out: its filter and its bounded buffer of live events.
/// The fan-out (single writer: the tail) offers events; the stream (single reader) takes them.
/// </summary>
/// <remarks>
/// When the buffer is full the subscription becomes <em>lagged</em>: it takes no more live
/// events, and its reader, after draining what is buffered, re-arms it and reads the missed
/// events from the log. The fan-out never blocks and never grows a buffer for a slow reader.
/// Full is a count of events or, past the first event buffered, a size of their payloads: 1,024
/// events of a few hundred bytes are nothing, 1,024 of a megabyte held for one slow reader are a
/// gigabyte.
/// </remarks>
public sealed class Subscription
{
    /// <summary>Written into the buffer's one spare slot when the subscription becomes lagged; never read out.</summary>
    private static readonly LogEvent LagSignal = new(LogPosition.Start, "", 0, "", null, "", "{}", default);

    private readonly Channel<LogEvent> _buffer;
    private readonly int _capacity;
    private readonly long _payloadCapacity;
    // The payload bytes buffered: added by the writer before it writes an event, taken off by the
    // reader once it has read one, so the writer never counts less than is buffered.
    private long _bufferedBytes;
    private int _lagged;
    private int _completed;

    /// <param name="capacity">The most events buffered.</param>
    /// <param name="payloadCapacity">The most payload bytes buffered past the first event (<see cref="LogEvent.PayloadSize"/>).</param>
    public Subscription(EventFilter filter, int capacity, long payloadCapacity = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(payloadCapacity, 1);
        Filter = filter;
        _capacity = capacity;
        _payloadCapacity = payloadCapacity;
        // One slot more than the events it holds: the lag signal always fits.
        _buffer = Channel.CreateBounded<LogEvent>(new BoundedChannelOptions(capacity + 1)
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
    /// <remarks>
    /// The race this guards: the reader drains the buffer, finds the subscription not lagged and
    /// waits for the next event, in the moment between the writer finding the buffer full and
    /// setting the flag. A lagged subscription is offered nothing more, so a flag alone would leave
    /// that reader waiting forever. So the writer sets the flag and then writes the lag signal into
    /// the spare slot: a waiting reader wakes, a draining one reads past it, and either then sees
    /// the flag. The reader only ever removes events, so a count below capacity stays below it
    /// until this (single) writer adds one, and the spare slot is free whenever the flag is clear
    /// (the reader re-arms only after draining, signal included).
    /// </remarks>
    internal bool Offer(LogEvent e)
    {
        if (Volatile.Read(ref _lagged) == 1 || !Filter.MatchesType(e.Type)) return false;
        var count = _buffer.Reader.Count;
        if (count < _capacity && (count == 0 || Volatile.Read(ref _bufferedBytes) + e.PayloadSize <= _payloadCapacity))
        {
            Interlocked.Add(ref _bufferedBytes, e.PayloadSize);
            if (_buffer.Writer.TryWrite(e)) return false;
            Interlocked.Add(ref _bufferedBytes, -e.PayloadSize);
        }
        // A stream that ended (cancelled while still in the fan-out) refuses events: not a lag.
        // Complete sets the flag before it completes the channel, so a write it refused sees it.
        if (Volatile.Read(ref _completed) == 1) return false;
        OnOverflow?.Invoke();
        LagCount++;
        Volatile.Write(ref _lagged, 1);
        _buffer.Writer.TryWrite(LagSignal);
        return true;
    }

    /// <summary>
    /// Test seam: runs on the writer once it has found the buffer full, before it signals the lag,
    /// so a test can put the reader's drain exactly there.
    /// </summary>
    internal Action? OnOverflow { get; set; }

    /// <summary>Clears the lagged state; the caller then reads the log from its last position.</summary>
    internal void Rearm() => Volatile.Write(ref _lagged, 0);

    /// <summary>Takes the next buffered event; the lag signal is skipped (the reader then checks <see cref="IsLagged"/>).</summary>
    internal bool TryRead(out LogEvent e)
    {
        while (_buffer.Reader.TryRead(out e!))
            if (!ReferenceEquals(e, LagSignal))
            {
                Interlocked.Add(ref _bufferedBytes, -e.PayloadSize);
                return true;
            }
        return false;
    }

    /// <summary>
    /// Waits until an event is buffered (true) or the subscription is completed and drained (false).
    /// It takes no token: the channel then reuses its one waiter, where a wait given a cancellable
    /// token allocates an operation and a token registration each time, i.e. for every live
    /// delivery of a stream that keeps up. A reader cancels its wait by <see cref="Complete"/>.
    /// </summary>
    internal ValueTask<bool> WaitToReadAsync() => _buffer.Reader.WaitToReadAsync(CancellationToken.None);

    /// <summary>Ends the buffer: the reader gets what is buffered, then the end; offers are refused. Idempotent.</summary>
    internal void Complete()
    {
        Volatile.Write(ref _completed, 1);
        _buffer.Writer.TryComplete();
    }
}
