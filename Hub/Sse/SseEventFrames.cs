using System.Text;
using EventHub.Log;

namespace EventHub.Sse;

/// <summary>
/// The SSE frame of an event (<c>id</c>, <c>event</c>, <c>data</c>, blank line), built once per
/// event and shared by every SSE subscriber: fan-out never re-encodes an event.
/// </summary>
/// <remarks>
/// The frame is kept on the event (<see cref="LogEvent.Encoded{T}"/>), so the log layer knows
/// nothing of SSE and a frame lives exactly as long as its event (the window and the subscribers'
/// buffers hold the events).
/// </remarks>
public sealed class SseEventFrames : EventEncoding<byte[]>
{
    private static readonly SseEventFrames Instance = new();

    private SseEventFrames() { }

    public static ReadOnlyMemory<byte> Of(LogEvent e) => e.Encoded(Instance);

    public override byte[] Encode(LogEvent e)
    {
        // Offsets and JSON (Utf8JsonWriter escapes control characters) hold no line breaks;
        // the type comes from the database, so strip any a future trigger might put in it.
        var type = e.Type.Contains('\n') || e.Type.Contains('\r') ? e.Type.Replace("\r", "").Replace("\n", "") : e.Type;
        var head = Encoding.UTF8.GetBytes($"id: {e.Offset}\nevent: {type}\ndata: ");
        var json = e.Json.Span;
        var frame = new byte[head.Length + json.Length + 2];
        head.CopyTo(frame, 0);
        json.CopyTo(frame.AsSpan(head.Length));
        frame[^2] = (byte)'\n';
        frame[^1] = (byte)'\n';
        return frame;
    }
}
