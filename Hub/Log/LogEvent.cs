using System.Buffers;
using System.Text;
using System.Text.Json;

namespace EventHub.Log;

/// <summary>
/// One committed change_log row. Instances are immutable and shared by all subscribers: its JSON
/// (the contract's wire shape) is built once, on first use, and reused for every subscriber;
/// transports keep their own framings beside it (fan-out never re-serializes an event).
/// </summary>
/// <remarks>
/// Until its JSON is built the event holds the payload as it was read; from then on only inside
/// that JSON (<see cref="Payload"/> is a slice of it), not also as a string: the recent-events
/// window keeps 20,000 events, and right after a burst they are young objects that the next
/// collection copies, so every byte an event holds is paid for in that pause (docs/performance.md,
/// "Latency"). Built on first use, not when read: a catch-up builds it in the stream's writer while
/// the next page is read (built by the reader, catch-up ran ~15 % slower).
/// </remarks>
public sealed class LogEvent
{
    private byte[]? _json;
    private int _payloadStart;
    private int _payloadLength;
    // The payload as read (a string, or UTF-8 bytes) until the JSON is built; then null.
    private object? _payloadSource;
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
        : this(position, offset, seq, projectId, sessionId, type, createdAt, (object)payloadJson) { }

    /// <param name="payloadUtf8">
    /// The payload object as UTF-8 JSON text, as the trigger built it (jsonb's text form). The event
    /// keeps the array until it has built its JSON: the caller must not change it.
    /// </param>
    public LogEvent(LogPosition position, string offset, long seq, string projectId, string? sessionId,
        string type, byte[] payloadUtf8, DateTimeOffset createdAt)
        : this(position, offset, seq, projectId, sessionId, type, createdAt, (object)payloadUtf8) { }

    private LogEvent(LogPosition position, string offset, long seq, string projectId, string? sessionId,
        string type, DateTimeOffset createdAt, object payloadSource)
    {
        Position = position;
        Offset = offset;
        Seq = seq;
        ProjectId = projectId;
        SessionId = sessionId;
        Type = type;
        CreatedAt = createdAt.ToUniversalTime();
        _payloadSource = payloadSource;
        PayloadSize = payloadSource is byte[] utf8 ? utf8.Length : Encoding.UTF8.GetByteCount((string)payloadSource);
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
    /// The payload's size in UTF-8 bytes as it was read (jsonb's text form), what the
    /// recent-events window counts against its byte bound. The event holds it about twice once
    /// encoded (its JSON, and SignalR's MessagePack form when a SignalR client takes it).
    /// </summary>
    public int PayloadSize { get; }

    /// <summary>
    /// The payload object as compact UTF-8 JSON: the trigger's JSON without whitespace outside
    /// strings (a slice of <see cref="Json"/>).
    /// </summary>
    public ReadOnlyMemory<byte> Payload
    {
        get
        {
            var json = Json; // built first: the slice's bounds are written before the JSON is published
            return json.Slice(Volatile.Read(ref _payloadStart), Volatile.Read(ref _payloadLength));
        }
    }

    /// <summary>
    /// The event in the wire shape of the reference (section 3) plus its <c>offset</c>, as UTF-8 JSON.
    /// Built on first use; benign race: two threads may both build it, the results are equal.
    /// </summary>
    public ReadOnlyMemory<byte> Json => Volatile.Read(ref _json) ?? BuildJson();

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

    private byte[] BuildJson()
    {
        var source = Volatile.Read(ref _payloadSource);
        // Null: another thread has built the JSON (it publishes the JSON before it drops the source).
        if (source is null) return Volatile.Read(ref _json)!;
        byte[] json;
        int start, length;
        if (source is byte[] utf8) json = EncodeJson(utf8, out start, out length);
        else
        {
            var text = (string)source;
            var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
            try { json = EncodeJson(rented.AsSpan(0, Encoding.UTF8.GetBytes(text, rented)), out start, out length); }
            finally { ArrayPool<byte>.Shared.Return(rented); }
        }
        Volatile.Write(ref _payloadStart, start);
        Volatile.Write(ref _payloadLength, length);
        var kept = Interlocked.CompareExchange(ref _json, json, null) ?? json;
        Volatile.Write(ref _payloadSource, null);
        return kept;
    }

    private byte[] EncodeJson(ReadOnlySpan<byte> payloadJson, out int payloadStart, out int payloadLength)
    {
        // Built in this thread's scratch buffer, then copied into an array of the JSON's own size.
        var scratch = EventJsonScratch.Rent();
        try
        {
            var (buffer, writer) = (scratch.Buffer, scratch.Writer);
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
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            EventJsonScratch.Return(scratch);
        }
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
