using System.IO.Pipelines;
using System.Text.Json;
using EventHub.Log;
using EventHub.State;

namespace EventHub.Tests.State;

/// <summary>
/// The state's JSON goes out as it is written: the body is flushed every 32 KB handed to the pipe
/// (a flush is what sends, and what waits for a client that is behind), not once at the end.
/// </summary>
public sealed class StateJsonWriterTests
{
    [Fact]
    public async Task The_body_is_flushed_every_32_KB_and_holds_the_head_and_every_entity()
    {
        const int Entities = 300; // ~1.1 KB each: ~330 KB
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0)); // no backpressure: this test reads at the end
        var body = new FlushCountingWriter(pipe.Writer);
        var head = new LiveStateHead("e1-9-0", ["tracker_created"],
            new Dictionary<string, EntityKey> { ["session_created"] = new() { Kind = "session", Fields = ["id"] } });

        await StateJsonWriter.WriteAsync(body, head, Items(Entities), CancellationToken.None);
        await pipe.Writer.CompleteAsync();

        // With a flush only at the end this is 1.
        Assert.InRange(body.Flushes, 330 * 1024 / StateJsonWriter.FlushBytes - 1, 330 * 1024 / StateJsonWriter.FlushBytes + 2);
        var read = await pipe.Reader.ReadAsync();
        using var doc = JsonDocument.Parse(read.Buffer);
        var root = doc.RootElement;
        Assert.Equal("e1-9-0", root.GetProperty("offset").GetString());
        Assert.Equal("tracker_created", root.GetProperty("unkeyedTypes")[0].GetString());
        Assert.Equal("session", root.GetProperty("entityKeys").GetProperty("session_created").GetProperty("kind").GetString());
        var entities = root.GetProperty("entities").EnumerateArray().ToList();
        Assert.Equal(Entities, entities.Count);
        Assert.Equal("[\"s-299\"]", entities[^1].GetProperty("key").GetRawText());
        Assert.Equal("s-299", entities[^1].GetProperty("event").GetProperty("payload").GetProperty("id").GetString());
    }

    private static async IAsyncEnumerable<LiveStateItem> Items(int count)
    {
        await Task.Yield();
        for (var i = 0; i < count; i++)
        {
            var e = new LogEvent(new LogPosition(1, 9, i + 1), $"e1-9-{i + 1}", i + 1, "p", $"s-{i}", "session_created",
                $$"""{"id":"s-{{i}}","pad":"{{new string('x', 1000)}}"}""", DateTimeOffset.UnixEpoch);
            yield return new LiveStateItem(null, "session", $"[\"s-{i}\"]", e);
        }
    }

    /// <summary>The pipe's writer, counting its flushes.</summary>
    private sealed class FlushCountingWriter(PipeWriter inner) : PipeWriter
    {
        public int Flushes { get; private set; }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Flushes++;
            return inner.FlushAsync(cancellationToken);
        }

        public override void Advance(int bytes) => inner.Advance(bytes);
        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);
        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
        public override void CancelPendingFlush() => inner.CancelPendingFlush();
        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }
}
