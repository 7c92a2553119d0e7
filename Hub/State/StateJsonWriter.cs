using System.IO.Pipelines;
using System.Text.Json;

namespace EventHub.State;

/// <summary>
/// Writes a live state as <c>GET /api/v1/state</c> answers it: the head, then each entity as it
/// comes, each event from its cached wire JSON, flushing the body every <see cref="FlushBytes"/>.
/// </summary>
/// <remarks>
/// The flush counts what the writer has handed to the pipe, not only what it still holds:
/// <see cref="Utf8JsonWriter"/> over a <see cref="PipeWriter"/> commits each of the pipe's buffers
/// (4 KB in Kestrel) as it fills, so its <see cref="Utf8JsonWriter.BytesPending"/> never reached
/// the 32 KB the endpoint waited for. The endpoint then flushed only at the end: the whole answer
/// (49 MB in <c>SlowStateReaderTests</c>) sat unflushed in Kestrel's pipe, where a flush's
/// backpressure never applied, and none of it went out before the read had ended.
/// </remarks>
internal static class StateJsonWriter
{
    /// <summary>Bytes between flushes.</summary>
    public const int FlushBytes = 32 * 1024;

    public static async Task WriteAsync(PipeWriter body, LiveStateHead head, IAsyncEnumerable<LiveStateItem> entities,
        CancellationToken cancellationToken)
    {
        await using var json = new Utf8JsonWriter(body);
        json.WriteStartObject();
        json.WriteString("offset", head.Offset);
        json.WriteStartArray("unkeyedTypes");
        foreach (var type in head.UnkeyedTypes) json.WriteStringValue(type);
        json.WriteEndArray();
        json.WriteStartObject("entityKeys");
        foreach (var (type, key) in head.EntityKeys.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            json.WriteStartObject(type);
            json.WriteString("kind", key.Kind);
            json.WriteStartArray("fields");
            foreach (var field in key.Fields) json.WriteStringValue(field);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteStartArray("entities");
        long flushedAt = 0;
        await foreach (var (_, kind, key, e) in entities.WithCancellation(cancellationToken))
        {
            json.WriteStartObject();
            json.WriteString("kind", kind);
            json.WritePropertyName("key");
            json.WriteRawValue(key!, skipInputValidation: true); // a JSON array built by PostgreSQL
            json.WritePropertyName("event");
            json.WriteRawValue(e!.Json.Span, skipInputValidation: true);
            json.WriteEndObject();
            if (json.BytesCommitted + json.BytesPending - flushedAt >= FlushBytes)
            {
                json.Flush();
                // The pipe's flush sends the bytes, and waits while the client is behind.
                await body.FlushAsync(cancellationToken);
                flushedAt = json.BytesCommitted;
            }
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        await body.FlushAsync(cancellationToken);
    }
}
