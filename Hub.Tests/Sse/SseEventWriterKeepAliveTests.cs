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
/// stream rather than one per delivery. End to end: <see cref="SseKeepAliveTests"/>.
/// </summary>
public sealed class SseEventWriterKeepAliveTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_live_stream_makes_one_timer_not_one_per_delivery()
    {
        var time = new ObservedTimeProvider(TimeProvider.System);
        await using var stream = new WriterUnderTest(time, TimeSpan.FromHours(1));
        for (var seq = 1; seq <= 200; seq++)
            await stream.DeliverAsync(seq);
        // Every delivery found the writer waiting (the frame is flushed only when the stream has
        // nothing more ready). A timer per wait made 200 (a8ec732).
        Assert.Equal(1, time.TimersCreated);
    }

    [Fact]
    public async Task Keep_alives_come_after_an_interval_without_frames_and_never_while_frames_flow()
    {
        var clock = new FakeTimeProvider();
        var interval = TimeSpan.FromSeconds(15);
        await using var stream = new WriterUnderTest(clock, interval);
        await stream.DeliverAsync(1);

        // Frames every 10 s: no gap reaches 15 s, so no keep-alive, though 60 s pass.
        for (var seq = 2; seq <= 7; seq++)
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            await stream.DeliverAsync(seq);
        }

        // Idle: nothing 14 s after the last frame, one keep-alive at 15 s, then one each 15 s. (The
        // timer's callback runs inside Advance and a pipe's flush completes at once, so what is
        // not in the pipe when Advance returns was not written.)
        clock.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(0, stream.ReadAvailable().KeepAlives);
        clock.Advance(TimeSpan.FromSeconds(1));
        await stream.ReadUntilAsync(() => stream.KeepAlives >= 1);
        clock.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(1, stream.ReadAvailable().KeepAlives);
        clock.Advance(TimeSpan.FromSeconds(1));
        await stream.ReadUntilAsync(() => stream.KeepAlives >= 2);

        // And the stream goes on. Everything written before frame 8 has been read by now: exactly
        // the two keep-alives (one while frames flowed or before 15 s of quiet would make three).
        await stream.DeliverAsync(8);
        Assert.Equal(2, stream.KeepAlives);
    }

    [Fact]
    public async Task Keep_alives_written_while_events_come_and_go_never_land_inside_a_frame()
    {
        // A keep-alive every millisecond of quiet, events in bursts with quiet between them: the
        // timer and the loop want the output at the same moments over and over. Without the gate
        // between them, their writes and flushes interleave on the pipe (or fail).
        await using var stream = new WriterUnderTest(TimeProvider.System, TimeSpan.FromMilliseconds(1));
        var random = new Random(13);
        var seq = 0;
        while (seq < 3000)
        {
            for (var burst = random.Next(1, 20); burst > 0 && seq < 3000; burst--)
                stream.Offer(++seq);
            if (random.Next(4) == 0)
                await Task.Delay(2); // quiet long enough for keep-alives (workload, not a synchronisation)
            else
                await Task.Yield();
        }
        await stream.ReadUntilAsync(() => stream.Contains("\"seq\":3000,"));

        var blocks = stream.Text.Split("\n\n");
        Assert.Equal("", blocks[^1]); // ends with a whole block
        var expected = 1;
        var keepAlives = 0;
        foreach (var block in blocks[..^1])
        {
            if (block == ": keep-alive") { keepAlives++; continue; }
            var lines = block.Split('\n');
            Assert.Equal(3, lines.Length);
            Assert.StartsWith("id: ", lines[0]);
            Assert.Equal("event: session_created", lines[1]);
            Assert.StartsWith("data: {\"seq\":" + expected + ",", lines[2]);
            Assert.EndsWith("}", lines[2]);
            expected++;
        }
        Assert.Equal(3001, expected);
        Assert.True(keepAlives > 0, "no keep-alive was written: the race was not exercised");
    }

    /// <summary>A writer over a pipe, fed from a channel, and the reading side of the pipe.</summary>
    private sealed class WriterUnderTest : IAsyncDisposable
    {
        private readonly Pipe _pipe = new();
        private readonly Channel<LogEvent> _events = Channel.CreateUnbounded<LogEvent>();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _writing;
        private readonly StringBuilder _text = new();
        // Released each time the writer has flushed and waits (its test seam): once at the start,
        // then once per delivery, so a delivery is over when the writer waits again.
        private readonly SemaphoreSlim _idle = new(0);

        public WriterUnderTest(TimeProvider time, TimeSpan interval)
        {
            var writer = new SseEventWriter(_pipe.Writer, time, interval) { OnIdle = () => _idle.Release() };
            _writing = Task.Run(() => writer.WriteAsync(_events.Reader.ReadAllAsync(_stop.Token), _stop.Token));
        }

        public int KeepAlives => CountOf(": keep-alive\n\n");

        public string Text => _text.ToString();

        public bool Contains(string text) => Text.Contains(text, StringComparison.Ordinal);

        /// <summary>Hands the stream one event without waiting for it.</summary>
        public void Offer(long seq) => Assert.True(_events.Writer.TryWrite(Event(seq)));

        private static LogEvent Event(long seq)
        {
            var p = new LogPosition(1, 100, seq);
            return new LogEvent(p, Offset.Format("0123456789", p), seq, "ao", null, "session_created", "{}", DateTimeOffset.UnixEpoch);
        }

        /// <summary>Hands the stream one event, reads until its frame has arrived and waits until the writer waits again.</summary>
        public async Task DeliverAsync(long seq)
        {
            if (!_started)
            {
                Assert.True(await _idle.WaitAsync(Bound), "the writer never waited");
                _started = true;
            }
            await _events.Writer.WriteAsync(Event(seq));
            await ReadUntilAsync(() => CountOf("\"seq\":" + seq + ",") == 1);
            Assert.True(await _idle.WaitAsync(Bound), "the writer did not wait again");
        }

        private bool _started;

        public async Task ReadUntilAsync(Func<bool> done)
        {
            using var bound = new CancellationTokenSource(Bound);
            while (!done())
            {
                Take(await _pipe.Reader.ReadAsync(bound.Token));
            }
        }

        /// <summary>Reads what the pipe holds now, without waiting.</summary>
        public WriterUnderTest ReadAvailable()
        {
            while (_pipe.Reader.TryRead(out var result) && Take(result)) { }
            return this;
        }

        /// <summary>Keeps what <paramref name="result"/> holds and consumes it; false when it held nothing.</summary>
        private bool Take(ReadResult result)
        {
            var any = !result.Buffer.IsEmpty;
            foreach (var segment in result.Buffer)
                _text.Append(Encoding.UTF8.GetString(segment.Span));
            _pipe.Reader.AdvanceTo(result.Buffer.End);
            return any;
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

    /// <summary>A clock that counts the timers made from it (Task.Delay makes one per call).</summary>
    private sealed class ObservedTimeProvider(TimeProvider inner) : TimeProvider
    {
        private int _created;

        public int TimersCreated => Volatile.Read(ref _created);

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();
        public override long GetTimestamp() => inner.GetTimestamp();
        public override long TimestampFrequency => inner.TimestampFrequency;
        public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _created);
            return inner.CreateTimer(callback, state, dueTime, period);
        }
    }
}
