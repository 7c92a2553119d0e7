using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using EventHub.Log;
using EventHub.Sse;

namespace EventHub.Tests.Streaming;

/// <summary>
/// <see cref="LogEvent"/>'s one JSON: the wire shape built when the event is made, the payload a
/// compact slice of it, and the SSE frame written around it rather than kept as a second copy.
/// </summary>
public sealed class LogEventTests
{
    // jsonb's text form: a space after every ':' and ','; strings keep theirs, escapes included.
    private const string JsonbText = """{"id": "ao-1", "note": "a, b: \"c d\" \\", "emoji": "é ☃", "n": 3, "list": [1, 2]}""";
    private const string Compact = """{"id":"ao-1","note":"a, b: \"c d\" \\","emoji":"é ☃","n":3,"list":[1,2]}""";

    private static LogEvent FromText() => new(new LogPosition(7, 100, 16), "0123abcdef-7-16", 16, "ao", "ao-1",
        "session_created", JsonbText, new DateTimeOffset(2026, 6, 5, 12, 0, 0, TimeSpan.FromHours(2)));

    private static LogEvent FromUtf8() => new(new LogPosition(7, 100, 16), "0123abcdef-7-16", 16, "ao", "ao-1",
        "session_created", Encoding.UTF8.GetBytes(JsonbText), new DateTimeOffset(2026, 6, 5, 12, 0, 0, TimeSpan.FromHours(2)));

    [Fact]
    public void The_json_is_the_wire_shape_with_the_payload_compacted_and_the_payload_is_a_slice_of_it()
    {
        var e = FromText();
        Assert.Equal(
            """{"seq":16,"projectId":"ao","sessionId":"ao-1","type":"session_created","payload":""" + Compact +
            ""","createdAt":"2026-06-05T10:00:00Z","offset":"0123abcdef-7-16"}""",
            Encoding.UTF8.GetString(e.Json.Span));
        Assert.Equal(Compact, Encoding.UTF8.GetString(e.Payload.Span));
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(JsonbText).RootElement, JsonDocument.Parse(e.Payload).RootElement));

        // One copy of the payload: the slice is of the JSON's own array.
        Assert.True(MemoryMarshal.TryGetArray(e.Json, out var json));
        Assert.True(MemoryMarshal.TryGetArray(e.Payload, out var payload));
        Assert.Same(json.Array, payload.Array);
    }

    [Fact]
    public void Once_its_json_is_built_the_event_no_longer_holds_the_payload_it_was_made_from()
    {
        var (e, payload) = Made();
        Assert.True(HeldAfterCollection(payload)); // before: the event holds what was read
        Assert.Equal(Compact, Encoding.UTF8.GetString(e.Payload.Span));
        Assert.False(HeldAfterCollection(payload));
        GC.KeepAlive(e);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static bool HeldAfterCollection(WeakReference<string> target)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return target.TryGetTarget(out _);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static (LogEvent, WeakReference<string>) Made()
        {
            var text = new string(JsonbText.AsSpan());
            return (new LogEvent(new LogPosition(7, 100, 16), "0123abcdef-7-16", 16, "ao", "ao-1", "session_created", text,
                DateTimeOffset.UnixEpoch), new WeakReference<string>(text));
        }
    }

    [Fact]
    public async Task Threads_that_race_to_build_the_json_all_get_the_one_the_event_kept()
    {
        for (var round = 0; round < 200; round++)
        {
            var e = FromUtf8();
            using var start = new Barrier(4);
            var seen = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                var payload = e.Payload; // builds the JSON, or reads what another thread built
                Assert.Equal(Compact, Encoding.UTF8.GetString(payload.Span));
                return e.Json;
            })));
            Assert.True(MemoryMarshal.TryGetArray(e.Json, out var kept));
            Assert.All(seen, json => Assert.True(MemoryMarshal.TryGetArray(json, out var a) && ReferenceEquals(a.Array, kept.Array)));
        }
    }

    [Fact]
    public void An_event_made_from_the_payloads_utf8_bytes_is_the_same_as_one_made_from_its_text()
    {
        Assert.Equal(FromText().Json.ToArray(), FromUtf8().Json.ToArray());
        Assert.Equal(FromText().Payload.ToArray(), FromUtf8().Payload.ToArray());
    }

    [Fact]
    public void The_sse_frame_is_the_head_then_the_events_json_and_every_subscriber_gets_the_same_bytes()
    {
        var e = FromText();
        var first = new ArrayBufferWriter<byte>();
        var length = SseEventFrames.Write(first, e);
        Assert.Equal(first.WrittenCount, length);
        Assert.Equal("id: 0123abcdef-7-16\nevent: session_created\ndata: " + Encoding.UTF8.GetString(e.Json.Span) + "\n\n",
            Encoding.UTF8.GetString(first.WrittenSpan));

        var second = new ArrayBufferWriter<byte>();
        SseEventFrames.Write(second, e);
        Assert.Equal(first.WrittenSpan.ToArray(), second.WrittenSpan.ToArray());
    }

    [Fact]
    public void Building_the_json_allocates_the_json_and_nothing_else_and_one_event_leaves_nothing_in_the_next()
    {
        static LogEvent Sized(int seq, int noteLength) => new(new LogPosition(7, 100, seq), $"0123abcdef-7-{seq}", seq, "ao", "ao-1",
            "session_created", Encoding.UTF8.GetBytes($$"""{"id": "ao-{{seq}}", "note": "{{new string('n', noteLength)}}"}"""), DateTimeOffset.UnixEpoch);
        static string Expected(int seq, int noteLength) =>
            $$"""{"seq":{{seq}},"projectId":"ao","sessionId":"ao-1","type":"session_created","payload":{"id":"ao-{{seq}}","note":"{{new string('n', noteLength)}}"},"createdAt":"1970-01-01T00:00:00Z","offset":"0123abcdef-7-{{seq}}"}""";

        // Large, small, larger than what a thread keeps, then small again, on one thread: each
        // event's JSON is its own, whatever the thread built before.
        var noteLengths = new[] { 5_000, 3, 1_000_000, 10, 300 };
        for (var i = 0; i < noteLengths.Length; i++)
            Assert.Equal(Expected(i + 1, noteLengths[i]), Encoding.UTF8.GetString(Sized(i + 1, noteLengths[i]).Json.Span));

        // The JSON's own array is all a built event allocates (a buffer and a writer per event were
        // more than the JSON itself, for every event a catch-up or a state read builds).
        var e = Sized(9, 300);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var json = e.Json;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= json.Length + 32, $"{allocated} bytes allocated for {json.Length} bytes of JSON");
    }
}
