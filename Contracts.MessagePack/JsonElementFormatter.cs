using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MessagePack;
using MessagePack.Formatters;

namespace EventHub.Contracts.MessagePack;

/// <summary>
/// A <see cref="JsonElement"/> as native MessagePack: objects as maps, arrays as arrays, numbers as
/// integers when they are whole (else float64), strings, booleans and nil. Reading turns any
/// MessagePack value back into JSON: binary becomes base64, a timestamp an ISO 8601 UTC string.
/// </summary>
public sealed class JsonElementFormatter : IMessagePackFormatter<JsonElement>
{
    /// <summary>The shared instance.</summary>
    public static JsonElementFormatter Instance { get; } = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, JsonElement value, MessagePackSerializerOptions options)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var count = 0;
                foreach (var _ in value.EnumerateObject()) count++;
                writer.WriteMapHeader(count);
                foreach (var property in value.EnumerateObject())
                {
                    writer.Write(property.Name);
                    Serialize(ref writer, property.Value, options);
                }
                break;
            case JsonValueKind.Array:
                writer.WriteArrayHeader(value.GetArrayLength());
                foreach (var item in value.EnumerateArray())
                    Serialize(ref writer, item, options);
                break;
            case JsonValueKind.String:
                writer.Write(value.GetString());
                break;
            case JsonValueKind.Number:
                if (value.TryGetInt64(out var l)) writer.Write(l);
                else if (value.TryGetUInt64(out var ul)) writer.Write(ul);
                else writer.Write(value.GetDouble());
                break;
            case JsonValueKind.True:
                writer.Write(true);
                break;
            case JsonValueKind.False:
                writer.Write(false);
                break;
            default: // Null, and Undefined (a default JsonElement)
                writer.WriteNil();
                break;
        }
    }

    /// <inheritdoc />
    public JsonElement Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
            WriteValue(ref reader, json, options);
        var jsonReader = new Utf8JsonReader(buffer.WrittenSpan);
        return JsonElement.ParseValue(ref jsonReader);
    }

    private static void WriteValue(ref MessagePackReader reader, Utf8JsonWriter json, MessagePackSerializerOptions options)
    {
        options.Security.DepthStep(ref reader);
        try
        {
            switch (reader.NextMessagePackType)
            {
                case MessagePackType.Map:
                    var properties = reader.ReadMapHeader();
                    json.WriteStartObject();
                    for (var i = 0; i < properties; i++)
                    {
                        json.WritePropertyName(ReadKey(ref reader));
                        WriteValue(ref reader, json, options);
                    }
                    json.WriteEndObject();
                    break;
                case MessagePackType.Array:
                    var items = reader.ReadArrayHeader();
                    json.WriteStartArray();
                    for (var i = 0; i < items; i++) WriteValue(ref reader, json, options);
                    json.WriteEndArray();
                    break;
                case MessagePackType.String:
                    json.WriteStringValue(reader.ReadString());
                    break;
                case MessagePackType.Integer:
                    // Unsigned codes above long's range are the only ones that need ulong.
                    if (reader.NextCode == MessagePackCode.UInt64) json.WriteNumberValue(reader.ReadUInt64());
                    else json.WriteNumberValue(reader.ReadInt64());
                    break;
                case MessagePackType.Float:
                    json.WriteNumberValue(reader.ReadDouble());
                    break;
                case MessagePackType.Boolean:
                    json.WriteBooleanValue(reader.ReadBoolean());
                    break;
                case MessagePackType.Nil:
                    reader.ReadNil();
                    json.WriteNullValue();
                    break;
                case MessagePackType.Binary:
                    json.WriteBase64StringValue(reader.ReadBytes()!.Value.ToArray());
                    break;
                case MessagePackType.Extension when reader.CreatePeekReader().ReadExtensionFormatHeader().TypeCode
                                                    == ReservedMessagePackExtensionTypeCode.DateTime:
                    json.WriteStringValue(reader.ReadDateTime().ToString("O", CultureInfo.InvariantCulture));
                    break;
                default:
                    throw new MessagePackSerializationException(
                        $"A payload value of MessagePack type {reader.NextMessagePackType} has no JSON equivalent.");
            }
        }
        finally
        {
            reader.Depth--;
        }
    }

    private static string ReadKey(ref MessagePackReader reader) => reader.NextMessagePackType switch
    {
        MessagePackType.String => reader.ReadString() ?? "",
        MessagePackType.Integer => reader.ReadInt64().ToString(CultureInfo.InvariantCulture),
        var other => throw new MessagePackSerializationException($"A payload map key must be a string, not {other}."),
    };
}
