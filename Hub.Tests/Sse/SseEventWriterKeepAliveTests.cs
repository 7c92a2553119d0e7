using System.IO.Pipelines;
using System.Text;
using System.Threading.Channels;
using EventHub.Log;
using EventHub.Sse;
using Microsoft.Extensions.Time.Testing;

namespace EventHub.Tests.Sse;

/// <summary>
/// The SSE writer's keep-alive on its own (a pipe for the response, a channel for the stream):
/// a comment after an interval without a frame, never while frames flow, and one timer per
/// interval rather than one per delivery. End to end: <see cref="SseKeepAliveTests"/>.
/// </summary>
public sealed class SseEventWriterKeepAliveTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_live_stream_arms_one_timer_per_interval_not_one_per_delivery()
    {
        var time = new ObservedTimeProvider(TimeProvider.System);
        await using var stream = new WriterUnderTest(time, TimeSpan.FromHours(1));
        for (var seq = 1; seq <= 200; seq++)
            await stream.DeliverAsync(seq);
        // Every delivery found the writer waiting (the frame is flushed only when the stream has
        // nothing more ready). A timer per wait made 200.
        Assert.InRange(time.TimersCreated, 1, 1);
    }

    [Fact]
    public async Task Keep_alives_come_after_an_interval_without_frames_and_never_while_frames_flow()
    {
        var clock = new FakeTimeProvider();
        var time = new ObservedTimeProvider(clock);
        var interval = TimeSpan.FromSeconds(15);
        await using var stream = new WriterUnderTest(time, interval);
        await stream.DeliverAsync(1);

        // Frames every 10 s: no gap reaches 15 s, so no keep-alive, though 60 s pass.
        for (var seq = 2; seq <= 7; seq++)
        {
            await stream.WaitForTimerAsync(time);
            clock.Advance(TimeSpan.FromSeconds(10));
            await stream.DeliverAsync(seq);
        }
        Assert.Equal(0, stream.KeepAlives);

        // Idle: one keep-alive 15 s after the last frame (not 15 s after the timer was armed,
        // 10 s before that frame), then one each 15 s.
        await stream.WaitForTimerAsync(time);
        clock.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(0, stream.KeepAlives);
        clock.Advance(TimeSpan.FromSeconds(1));
        await stream.ReadUntilAsync(() => stream.KeepAlives >= 1);
        await stream.WaitForTimerAsync(time);
        clock.Advance(interval);
        await stream.ReadUntilAsync(() => stream.KeepAlives >= 2);

        // And the stream goes on. Everything written before frame 8 has been read by now: exactly
        // the two keep-alives (one too early, at 14 s or while frames flowed, would make three).
        await stream.DeliverAsync(8);
        Assert.Equal(2, stream.KeepAlives);
    }

    /// <summary>A writer over a pipe, fed from a channel, and the reading side of the pipe.</summary>
    private sealed class WriterUnderTest : IAsyncDisposable
    {
        private readonly Pipe _pipe = new();
        private readonly Channel<LogEvent> _events = Channel.CreateUnbounded<LogEvent>();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _writing;
        private readonly StringBuilder _text = new();

        public WriterUnderTest(TimeProvider time, TimeSpan interval)
        {
            var writer = new SseEventWriter(_pipe.Writer, time, interval);
            _writing = Task.Run(() => writer.WriteAsync(_events.Reader.ReadAllAsync(_stop.Token), _stop.Token));
        }

        public int KeepAlives => CountOf(": keep-alive\n\n");

        /// <summary>Hands the stream one event and reads until its frame has arrived.</summary>
        public async Task DeliverAsync(long seq)
        {
            var p = new LogPosition(1, 100, seq);
            await _events.Writer.WriteAsync(new LogEvent(p, Offset.Format("0123456789", p), seq, "ao", null, "session_created", "{}",
                DateTimeOffset.UnixEpoch));
            await ReadUntilAsync(() => CountOf("\"seq\":" + seq + ",") == 1);
        }

        public async Task ReadUntilAsync(Func<bool> done)
        {
            using var bound = new CancellationTokenSource(Bound);
            while (!done())
            {
                var result = await _pipe.Reader.ReadAsync(bound.Token);
                foreach (var segment in result.Buffer)
                    _text.Append(Encoding.UTF8.GetString(segment.Span));
                _pipe.Reader.AdvanceTo(result.Buffer.End);
            }
        }

        /// <summary>Waits (bounded) until the writer has a keep-alive timer armed: only then does advancing the clock reach it.</summary>
        public async Task WaitForTimerAsync(ObservedTimeProvider time)
        {
            using var bound = new CancellationTokenSource(Bound);
            // No event says "a timer was armed"; polled, bounded.
            while (time.TimersArmed == 0)
                await Task.Delay(1, bound.Token);
        }

        private int CountOf(string text)
        {
            var all = _text.ToString();
            var count = 0;
            for (var i = all.IndexOf(text, StringComparison.Ordinal); i >= 0; i = all.IndexOf(text, i + text.Length, StringComparison.Ordinal))
                count++;
            return count;
        }

        public async ValueTask DisposeAsync()
        {
            _events.Writer.Complete();
            await _writing.WaitAsync(Bound);
            await _stop.CancelAsync();
            _stop.Dispose();
        }
    }

    /// <summary>A clock that counts the timers made from it (Task.Delay makes one per call) and those still armed.</summary>
    private sealed class ObservedTimeProvider(TimeProvider inner) : TimeProvider
    {
        private int _created;
        private int _armed;

        public int TimersCreated => Volatile.Read(ref _created);
        public int TimersArmed => Volatile.Read(ref _armed);

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();
        public override long GetTimestamp() => inner.GetTimestamp();
        public override long TimestampFrequency => inner.TimestampFrequency;
        public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _created);
            Interlocked.Increment(ref _armed);
            return new ObservedTimer(this, inner.CreateTimer(callback, state, dueTime, period));
        }

        private sealed class ObservedTimer(ObservedTimeProvider owner, ITimer timer) : ITimer
        {
            private int _disposed;

            public bool Change(TimeSpan dueTime, TimeSpan period) => timer.Change(dueTime, period);

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref owner._armed);
                timer.Dispose();
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
