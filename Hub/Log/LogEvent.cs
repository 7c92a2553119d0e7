using System.Buffers;
using System.Text;
using System.Text.Json;

namespace EventHub.Log;

/// <summary>
/// One committed change_log row. Instances are immutable and shared by all subscribers: its JSON
/// (the contract's wire shape) is computed once, on first use, and reused for every subscriber;
/// transports keep their own framings beside it (fan-out never re-serializes an event).
/// </summary>
public sealed class LogEvent
{
    private byte[]? _json;
    private EncodingEntry? _encodings;

    /// <summary>One transport's encoding, in a list that only grows (one entry per transport).</summary>
    private sealed class EncodingEntry(object key, object value, EncodingEntry? next)
    {
        public readonly object Key = key;
        public readonly object Value = value;
        public readonly EncodingEntry? Next = next;
    }

    public LogEvent(LogPosition position, string offset, long seq, string projectId, string? sessionId,
        string type, string payloadJson, DateTimeOffset createdAt)
    {
        Position = position;
        Offset = offset;
        Seq = seq;
        ProjectId = projectId;
        SessionId = sessionId;
        Type = type;
        PayloadJson = payloadJson;
        CreatedAt = createdAt.ToUniversalTime();
    }

    public LogPosition Position { get; }
    /// <summary>The opaque offset a client resumes from to get the events after this one.</summary>
    public string Offset { get; }
    public long Seq { get; }
    public string ProjectId { get; }
    public string? SessionId { get; }
    public string Type { get; }
    /// <summary>The payload object as JSON text, exactly as the trigger built it.</summary>
    public string PayloadJson { get; }
    public DateTimeOffset CreatedAt { get; }

    /// <summary>
    /// The event in the wire shape of the reference (section 3) plus its <c>offset</c>, as UTF-8 JSON.
    /// Computed once; benign race: two threads may both compute it, the results are equal.
    /// </summary>
    public ReadOnlyMemory<byte> Json => _json ??= EncodeJson();

    /// <summary>
    /// <paramref name="encoding"/>'s encoding of this event, built on first use and kept with the
    /// event. Lock-free: a thread that loses the race to add it uses the winner's (equal) value.
    /// </summary>
    public T Encoded<T>(EventEncoding<T> encoding) where T : class
    {
        while (true)
        {
            var head = Volatile.Read(ref _encodings);
            for (var entry = head; entry is not null; entry = entry.Next)
                if (ReferenceEquals(entry.Key, encoding)) return (T)entry.Value;
            var value = encoding.Encode(this);
            if (Interlocked.CompareExchange(ref _encodings, new EncodingEntry(encoding, value, head), head) == head) return value;
        }
    }

    private byte[] EncodeJson()
    {
        var buffer = new ArrayBufferWriter<byte>(256 + PayloadJson.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("seq", Seq);
            writer.WriteString("projectId", ProjectId);
            if (SessionId is null) writer.WriteNull("sessionId"); else writer.WriteString("sessionId", SessionId);
            writer.WriteString("type", Type);
            writer.WritePropertyName("payload");
            // jsonb's text form has spaces after ':' and ','; dropping whitespace outside strings
            // makes every frame compact. (A JsonDocument round trip did the same at more than half
            // of the hub's CPU per event during catch-up.)
            WriteCompactPayload(writer, PayloadJson);
            writer.WriteString("createdAt", CreatedAt.UtcDateTime);
            writer.WriteString("offset", Offset);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteCompactPayload(Utf8JsonWriter writer, string json)
    {
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(json, rented);
            var written = 0;
            var inString = false;
            var escaped = false;
            for (var i = 0; i < length; i++)
            {
                var b = rented[i];
                if (inString)
                {
                    if (escaped) escaped = false;
                    else if (b == (byte)'\\') escaped = true;
                    else if (b == (byte)'"') inString = false;
                }
                else if (b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') continue;
                else if (b == (byte)'"') inString = true;
                rented[written++] = b;
            }
            // Not validated again: jsonb's text output is valid JSON, and dropping whitespace outside
            // strings keeps it so; a validating write parsed every payload once more.
            writer.WriteRawValue(rented.AsSpan(0, written), skipInputValidation: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
