using System.Buffers;
using System.Text;
using EventHub.Log;

namespace EventHub.Sse;

/// <summary>
/// The SSE frame of an event (<c>id</c>, <c>event</c>, <c>data</c>, blank line), encoded once per
/// event and shared by every SSE subscriber: fan-out never re-encodes an event.
/// </summary>
/// <remarks>
/// What is kept is the frame's head (<c>id: …\nevent: …\ndata: </c>), on the event
/// (<see cref="LogEvent.Encoded{T}"/>), so the log layer knows nothing of SSE and a head lives exactly
/// as long as its event. The data line is the event's JSON, which the event already holds: a whole
/// frame kept beside it held that JSON twice (the recent-events window holds 20,000 events, and
/// after a burst every byte of them is copied by the next gen-1 collection).
/// </remarks>
public sealed class SseEventFrames : EventEncoding<byte[]>
{
    private static readonly SseEventFrames Instance = new();

    private SseEventFrames() { }

    /// <summary>
    /// Writes <paramref name="e"/>'s frame to <paramref name="output"/>; returns its length in bytes.
    /// Unless <paramref name="named"/>, the frame has no <c>event</c> line: an EventSource then
    /// dispatches it as a <c>message</c>, which <c>onmessage</c> receives whatever the type (the
    /// type is in the data), where a named frame reaches only a listener for that name.
    /// </summary>
    public static int Write(IBufferWriter<byte> output, LogEvent e, bool named = true)
    {
        ReadOnlySpan<byte> head = e.Encoded(Instance);
        var json = e.Json.Span;
        var headLength = head.Length;
        if (named)
            output.Write(head);
        else
        {
            // The same head, its event line left out: no second encoding per event.
            var idEnd = head.IndexOf((byte)'\n') + 1;
            var dataStart = idEnd + head[idEnd..].IndexOf((byte)'\n') + 1;
            output.Write(head[..idEnd]);
            output.Write(head[dataStart..]);
            headLength -= dataStart - idEnd;
        }
        output.Write(json);
        output.Write("\n\n"u8);
        return headLength + json.Length + 2;
    }

    public override byte[] Encode(LogEvent e)
    {
        // Offsets and JSON (Utf8JsonWriter escapes control characters) hold no line breaks;
        // the type comes from the database, so strip any a future trigger might put in it.
        var type = e.Type.Contains('\n') || e.Type.Contains('\r') ? e.Type.Replace("\r", "").Replace("\n", "") : e.Type;
        return Encoding.UTF8.GetBytes($"id: {e.Offset}\nevent: {type}\ndata: ");
    }
}
