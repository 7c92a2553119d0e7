using System.Buffers;
using System.Text;
using System.Text.Json;

namespace EventHub.Log;

/// <summary>
/// One committed change_log row. Instances are immutable and shared by all subscribers: its JSON
/// (the contract's wire shape) is built once, when the event is made, and reused for every
/// subscriber; transports keep their own framings beside it (fan-out never re-serializes an event).
/// </summary>
/// <remarks>
/// The event holds its payload only inside that JSON (<see cref="Payload"/> is a slice of it), not
/// also as a string: the recent-events window keeps 20,000 events, and right after a burst they are
/// young objects that the next gen-1 collection copies, so every byte an event holds is paid for in
/// that pause (docs/performance.md, "Latency").
/// </remarks>
public sealed class LogEvent
{
    private readonly byte[] _json;
    private readonly int _payloadStart;
    private readonly int _payloadLength;
    private EncodingEntry? _encodings;

    /// <summary>One transport's encoding, in a list that only grows (one entry per transport).</summary>
    private sealed class EncodingEntry(object key, object value, EncodingEntry? next)
    {
        public readonly object Key = key;
        public readonly object Value = value;
        public readonly EncodingEntry? Next = next;
    }

    /// <param name="payloadJson">The payload object as JSON text, as the trigger built it (jsonb's text form).</param>
    public LogEvent(LogPosition position, string offset, long seq, string projectId, string? sessionId,
        string type, string payloadJson, DateTimeOffset createdAt)
        : this(position, offset, seq, projectId, sessionId, type, createdAt)
    {
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(payloadJson.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(payloadJson, rented);
            _json = EncodeJson(rented.AsSpan(0, length), out _payloadStart, out _payloadLength);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <param name="payloadUtf8">The payload object as UTF-8 JSON text, as the trigger built it (jsonb's text form).</param>
    public LogEvent(LogPosition position, string offset, long seq, string projectId, string? sessionId,
        string type, ReadOnlySpan<byte> payloadUtf8, DateTimeOffset createdAt)
        : this(position, offset, seq, projectId, sessionId, type, createdAt) =>
        _json = EncodeJson(payloadUtf8, out _payloadStart, out _payloadLength);

    private LogEvent(LogPosition position, string offset, long seq, string projectId, string? sessionId,
        string type, DateTimeOffset createdAt)
    {
        Position = position;
        Offset = offset;
        Seq = seq;
        ProjectId = projectId;
        SessionId = sessionId;
        Type = type;
        CreatedAt = createdAt.ToUniversalTime();
        _json = [];
    }

    public LogPosition Position { get; }
    /// <summary>The opaque offset a client resumes from to get the events after this one.</summary>
    public string Offset { get; }
    public long Seq { get; }
    public string ProjectId { get; }
    public string? SessionId { get; }
    public string Type { get; }
    public DateTimeOffset CreatedAt { get; }

    /// <summary>
    /// The payload object as compact UTF-8 JSON: the trigger's JSON without whitespace outside
    /// strings (a slice of <see cref="Json"/>).
    /// </summary>
    public ReadOnlyMemory<byte> Payload => _json.AsMemory(_payloadStart, _payloadLength);

    /// <summary>The event in the wire shape of the reference (section 3) plus its <c>offset</c>, as UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> Json => _json;

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

    private byte[] EncodeJson(ReadOnlySpan<byte> payloadJson, out int payloadStart, out int payloadLength)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + payloadJson.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("seq", Seq);
            writer.WriteString("projectId", ProjectId);
            if (SessionId is null) writer.WriteNull("sessionId"); else writer.WriteString("sessionId", SessionId);
            writer.WriteString("type", Type);
            writer.WritePropertyName("payload");
            writer.Flush();
            // Compact output: the value follows the property's colon directly.
            payloadStart = buffer.WrittenCount;
            // jsonb's text form has spaces after ':' and ','; dropping whitespace outside strings
            // makes every frame compact. (A JsonDocument round trip did the same at more than half
            // of the hub's CPU per event during catch-up.)
            WriteCompactPayload(writer, payloadJson);
            writer.Flush();
            payloadLength = buffer.WrittenCount - payloadStart;
            writer.WriteString("createdAt", CreatedAt.UtcDateTime);
            writer.WriteString("offset", Offset);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteCompactPayload(Utf8JsonWriter writer, ReadOnlySpan<byte> json)
    {
        var rented = ArrayPool<byte>.Shared.Rent(json.Length);
        try
        {
            var written = 0;
            var inString = false;
            var escaped = false;
            foreach (var b in json)
            {
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
