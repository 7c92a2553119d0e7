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
public sealed class SseEventWriter(PipeWriter output, TimeProvider timeProvider, TimeSpan keepAliveInterval)
{
    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();

    /// <summary>Most bytes written and not flushed: large enough for few, large writes during a catch-up.</summary>
    public const int FlushThresholdBytes = 16 * 1024;

    public async Task WritePreambleAsync(TimeSpan retry, CancellationToken cancellationToken)
    {
        // The retry hint, and a comment so that clients see the stream open before the first event.
        output.Write(Encoding.ASCII.GetBytes($"retry: {(long)retry.TotalMilliseconds}\n: connected\n\n"));
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

    /// <summary>Writes events until the stream ends or <paramref name="cancellationToken"/> fires (client gone).</summary>
    public async Task WriteAsync(IAsyncEnumerable<LogEvent> events, CancellationToken cancellationToken)
    {
        var enumerator = events.GetAsyncEnumerator(cancellationToken);
        Task<bool>? pending = null;
        var unflushed = 0;
        var wrote = false;
        var keepAlive = new IdleKeepAlive(output, timeProvider, keepAliveInterval, cancellationToken);
        try
        {
            while (true)
            {
                var next = enumerator.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    // Nothing ready: send what is buffered, then wait, with a keep-alive on idle.
                    pending = next.AsTask();
                    await output.FlushAsync(cancellationToken);
                    if (wrote) keepAlive.Wrote();
                    unflushed = 0;
                    wrote = false;
                    await keepAlive.WaitAsync(pending);
                    next = new ValueTask<bool>(pending);
                    pending = null;
                }
                if (!await next) break;
                var frame = SseEventFrames.Of(enumerator.Current).Span;
                output.Write(frame);
                unflushed += frame.Length;
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
            keepAlive.Dispose();
            // An async iterator cannot be disposed while a MoveNextAsync is in flight; it shares
            // our token, so it ends promptly once the client is gone.
            if (pending is not null)
                try { await pending; } catch (OperationCanceledException) { }
            await enumerator.DisposeAsync();
        }
    }

    /// <summary>
    /// The keep-alive of one stream: a comment after <c>keepAliveInterval</c> without a frame, from
    /// one timer that is armed again only when it fires (for what is left of the interval since
    /// the last frame), not one per wait.
    /// </summary>
    /// <remarks>
    /// A timer per wait, cancelled when the next event came, gave every delivery to a live stream a
    /// timer, a linked token source and their garbage: 50,000 of each a second at 1,000 subscribers
    /// x 50 events/s. Measured against it (bench, that cell and 100 x 100/s, two runs each): the
    /// hub's CPU per delivery and the latency were the same within the runs' spread; what this
    /// saves is allocation and the timer queue's churn, growing with subscribers x events.
    /// </remarks>
    private sealed class IdleKeepAlive(PipeWriter output, TimeProvider timeProvider, TimeSpan interval, CancellationToken cancellationToken) : IDisposable
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        private long _lastWrite = timeProvider.GetTimestamp();
        private Task? _due;

        public void Wrote() => _lastWrite = timeProvider.GetTimestamp();

        public async Task WaitAsync(Task pending)
        {
            while (true)
            {
                if (_due is null)
                {
                    var idle = timeProvider.GetElapsedTime(_lastWrite);
                    if (idle >= interval)
                    {
                        output.Write(KeepAlive);
                        await output.FlushAsync(cancellationToken);
                        Wrote();
                        continue;
                    }
                    _due = Task.Delay(interval - idle, timeProvider, _stop.Token);
                }
                // WhenAny takes its continuation off the timer when pending wins, so waits add
                // nothing to the one timer.
                if (await Task.WhenAny(pending, _due) == pending) return;
                _due = null;
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        /// <summary>Stops the timer (synchronously: its callback only unregisters it).</summary>
        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }
    }
}
