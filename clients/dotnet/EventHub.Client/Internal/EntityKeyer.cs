using System.Text.Encodings.Web;
using System.Text.Json;
using EventHub.Contracts;

namespace EventHub.Client.Internal;

/// <summary>
/// Names the entity a streamed event describes, by the keys the hub sent with the state
/// (<see cref="LiveState.EntityKeys"/>, built-in and configured alike): the kind, and the key as
/// the compact JSON array of the payload's key fields in order (a missing field is <c>null</c>),
/// written exactly as the hub writes the state's keys (no spaces; non-ASCII and HTML characters
/// unescaped, as JavaScript's <c>JSON.stringify</c>), so an event lands on the entity the state holds.
/// </summary>
internal sealed class EntityKeyer(IReadOnlyDictionary<string, LiveEntityKey> keys)
{
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The entity of <paramref name="changeEvent"/>; false for a type without a key.</summary>
    public bool TryIdentify(ChangeEvent changeEvent, out LiveEntityId id)
    {
        if (!keys.TryGetValue(changeEvent.Type, out var key) || key.Fields.Count == 0)
        {
            id = default;
            return false;
        }
        id = new LiveEntityId(changeEvent.ProjectId, key.Kind, KeyOf(changeEvent.Payload, key.Fields));
        return true;
    }

    /// <summary>The key of a payload: its <paramref name="fields"/>' values as a compact JSON array.</summary>
    public static string KeyOf(JsonElement payload, IReadOnlyList<string> fields) => Write(writer =>
    {
        foreach (var field in fields)
        {
            if (payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty(field, out var value)) value.WriteTo(writer);
            else writer.WriteNullValue();
        }
    });

    /// <summary>The key of string values, as a compact JSON array.</summary>
    public static string KeyOf(IEnumerable<string?> values) => Write(writer =>
    {
        foreach (var value in values)
        {
            if (value is null) writer.WriteNullValue();
            else writer.WriteStringValue(value);
        }
    });

    private static string Write(Action<Utf8JsonWriter> items)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Compact))
        {
            writer.WriteStartArray();
            items(writer);
            writer.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
