using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using EventHub.Log;
using EventHub.Streaming;

namespace EventHub.Sse;

/// <summary>
/// Writes an <see cref="EventStream"/> as Server-Sent Events. Frames are the events' cached
/// encodings (written once per event, not per subscriber). Writes are flushed when the stream
/// has nothing more ready, so a live event goes out at once, and whenever
/// <see cref="FlushThresholdBytes"/> are unflushed, so a catch-up goes out in large writes at the
/// pace the client reads.
/// </summary>
/// <param name="namedEvents">Whether event frames carry <c>event: &lt;type&gt;</c> (see <see cref="SseEventFrames.Write"/>).</param>
public sealed class SseEventWriter(PipeWriter output, TimeProvider timeProvider, TimeSpan keepAliveInterval, bool namedEvents = true)
{
    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();

    /// <summary>Most bytes written and not flushed: large enough for few, large writes during a catch-up.</summary>
    public const int FlushThresholdBytes = 16 * 1024;

    /// <summary>
    /// Writes the retry hint and a comment, so that clients see the stream open before the first
    /// event; and, given <paramref name="startId"/> (a stream from now), an <c>id</c> with no data.
    /// </summary>
    /// <remarks>
    /// An EventSource takes the <c>id</c> of a frame without data as its last event id and
    /// dispatches nothing (the HTML standard's "dispatch the event" sets the id before it drops a
    /// frame with no data). The hole it closes: a stream from now that dropped before its first
    /// event reconnected with no <c>Last-Event-ID</c>, that is from a later now, and lost what was
    /// committed in between.
    /// </remarks>
    public async Task WritePreambleAsync(TimeSpan retry, string? startId, CancellationToken cancellationToken)
    {
        var id = startId is null ? "" : $"id: {startId}\n";
        output.Write(Encoding.ASCII.GetBytes($"retry: {(long)retry.TotalMilliseconds}\n{id}: connected\n\n"));
        await output.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Writes the reset signal: <c>event: reset</c> with the reason and the offset to continue
    /// from, which is also the frame's <c>id</c>, so an EventSource that reconnects by itself
    /// continues from there (after its <c>reset</c> listener has run).
    /// </summary>
    public async Task WriteResetAsync(StreamResetException reset, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("reason", reset.Reason);
            json.WriteString("message", reset.Message);
            json.WriteString("offset", reset.ContinueFrom);
            json.WriteEndObject();
        }
        output.Write(Encoding.UTF8.GetBytes($"id: {reset.ContinueFrom}\nevent: reset\ndata: "));
        output.Write(buffer.WrittenSpan);
        output.Write("\n\n"u8);
        await output.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Writes a final <c>event: stream_error</c> frame whose data is the JSON error body
    /// (<c>{"error":{"code","message"}}</c>), with no <c>id</c>, and flushes it. Not named
    /// <c>error</c>: an EventSource would mix that up with its own connection-error event.
    /// </summary>
    public async Task WriteErrorAsync(string code, string message, CancellationToken cancellationToken)
    {
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
            new Errors.ApiError(new Errors.ApiErrorBody(code, message)), System.Text.Json.JsonSerializerOptions.Web);
        output.Write("event: stream_error\ndata: "u8);
        output.Write(json);
        output.Write("\n\n"u8);
        await output.FlushAsync(cancellationToken);
    }

    /// <summary>Test seam: runs each time the writer has flushed and begins to wait for the next event.</summary>
    internal Action? OnIdle { get; set; }

    /// <summary>Writes events until the stream ends or <paramref name="cancellationToken"/> fires (client gone).</summary>
    public async Task WriteAsync(IAsyncEnumerable<LogEvent> events, CancellationToken cancellationToken)
    {
        var enumerator = events.GetAsyncEnumerator(cancellationToken);
        var keepAlive = new IdleKeepAlive(output, timeProvider, keepAliveInterval, OnIdle, cancellationToken);
        ValueTask<bool> next = default;
        var inFlight = false; // next is pending and not awaited yet
        var unflushed = 0;
        var wrote = false;
        try
        {
            while (true)
            {
                next = enumerator.MoveNextAsync();
                bool more;
                if (next.IsCompleted)
                    more = await next;
                else
                {
                    // Nothing ready: send what is buffered, then wait; while waiting the output is
                    // the keep-alive's.
                    inFlight = true;
                    if (wrote) keepAlive.Wrote();
                    await output.FlushAsync(cancellationToken);
                    unflushed = 0;
                    wrote = false;
                    keepAlive.Idle();
                    inFlight = false;
                    try { more = await next; }
                    finally { await keepAlive.BusyAsync(); }
                }
                if (!more) break;
                unflushed += SseEventFrames.Write(output, enumerator.Current, namedEvents);
                wrote = true;
                if (unflushed >= FlushThresholdBytes)
                {
                    // A catch-up served from memory is ready all at once: without this, all of it
                    // would pile up in the response pipe for a client that does not read. A flush
                    // waits while the transport is over its buffer limit, so a slow reader holds
                    // this stream back instead of growing the hub's memory.
                    await output.FlushAsync(cancellationToken);
                    unflushed = 0;
                }
            }
            await output.FlushAsync(cancellationToken);
        }
        finally
        {
            await keepAlive.DisposeAsync();
            // An async iterator cannot be disposed while a MoveNextAsync is in flight; it shares
            // our token, so it ends promptly once the client is gone.
            if (inFlight)
                try { await next; } catch (OperationCanceledException) { }
            await enumerator.DisposeAsync();
        }
    }

    /// <summary>
    /// The keep-alive of one stream: a comment once <c>interval</c> has passed without a frame,
    /// written by one timer (made once, re-armed for what is left of the interval since the last
    /// frame) while the stream waits. The writer's loop and the timer share the output through a
    /// gate: the loop holds it except while it waits for the next event (<see cref="Idle"/> to
    /// <see cref="BusyAsync"/>), so a keep-alive never lands inside a frame.
    /// </summary>
    /// <remarks>
    /// The keep-alive used to race each wait against a timer of its own (Task.WhenAny): every
    /// delivery to a live stream cost a timer, a linked token source, a task for the wait and an
    /// async method's state: ~1.3 KB of garbage per delivery, 13 MB/s at 100 subscribers x 100
    /// events/s, a gen-0 collection every 1-2 s. Waiting on the event directly leaves the
    /// subscription's wait the only allocation per delivery (bench/results/2026-12-04-sse-allocations.md).
    /// </remarks>
    private sealed class IdleKeepAlive : IAsyncDisposable
    {
        private static readonly TimeSpan Never = Timeout.InfiniteTimeSpan;
        private readonly PipeWriter _output;
        private readonly TimeProvider _time;
        private readonly TimeSpan _interval;
        private readonly CancellationToken _cancellationToken;
        private readonly Action? _onIdle;
        private readonly SemaphoreSlim _gate = new(0, 1); // the loop holds it from the start
        private readonly ITimer _timer;
        private long _lastWrite;
        private volatile bool _disposed;
        private bool _loopHolds = true;

        public IdleKeepAlive(PipeWriter output, TimeProvider time, TimeSpan interval, Action? onIdle, CancellationToken cancellationToken)
        {
            _onIdle = onIdle;
            _output = output;
            _time = time;
            _interval = interval;
            _cancellationToken = cancellationToken;
            _lastWrite = time.GetTimestamp();
            _timer = time.CreateTimer(static state => ((IdleKeepAlive)state!).OnTimer(), this, interval, Never);
        }

        /// <summary>Frames were handed to the output now.</summary>
        public void Wrote() => Volatile.Write(ref _lastWrite, _time.GetTimestamp());

        /// <summary>The loop waits for the next event: the output is free for a keep-alive.</summary>
        public void Idle()
        {
            _loopHolds = false;
            _gate.Release();
            _onIdle?.Invoke();
        }

        /// <summary>The loop takes the output back (at once unless a keep-alive is being written).</summary>
        public async ValueTask BusyAsync()
        {
            await _gate.WaitAsync(CancellationToken.None);
            _loopHolds = true;
        }

        private void OnTimer()
        {
            if (_disposed) return;
            var idle = _time.GetElapsedTime(Volatile.Read(ref _lastWrite));
            if (idle < _interval)
                _timer.Change(_interval - idle, Never);
            else if (!_gate.Wait(0))
                _timer.Change(_interval / 10, Never); // the loop is writing, or about to wait: look again soon
            else
                _ = WriteKeepAliveAsync();
        }

        private async Task WriteKeepAliveAsync()
        {
            try
            {
                if (_disposed) return;
                _output.Write(KeepAlive);
                await _output.FlushAsync(_cancellationToken);
                Wrote();
            }
            catch (Exception)
            {
                // The client is gone or the response ended: the loop finds out on its own.
            }
            finally
            {
                if (!_disposed) _timer.Change(_interval, Never);
                _gate.Release();
            }
        }

        /// <summary>Stops the timer and waits for a keep-alive being written, so the response can end.</summary>
        public async ValueTask DisposeAsync()
        {
            _disposed = true;
            await _timer.DisposeAsync();
            if (!_loopHolds) await _gate.WaitAsync(CancellationToken.None);
        }
    }
}
