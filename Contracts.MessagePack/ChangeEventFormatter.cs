using System.Globalization;
using System.Text.Json;
using MessagePack;
using MessagePack.Formatters;

namespace EventHub.Contracts.MessagePack;

/// <summary>
/// <see cref="ChangeEvent"/> as a MessagePack map with the contract's camelCase keys, the payload
/// as a nested map and <c>createdAt</c> as the standard timestamp extension (UTC). Unknown keys
/// are skipped, so the hub may add fields.
/// </summary>
public sealed class ChangeEventFormatter : IMessagePackFormatter<ChangeEvent?>
{
    /// <summary>The shared instance.</summary>
    public static ChangeEventFormatter Instance { get; } = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, ChangeEvent? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        writer.WriteMapHeader(7);
        writer.Write("seq");
        writer.Write(value.Seq);
        writer.Write("projectId");
        writer.Write(value.ProjectId);
        writer.Write("sessionId");
        writer.Write(value.SessionId);
        writer.Write("type");
        writer.Write(value.Type);
        writer.Write("payload");
        JsonElementFormatter.Instance.Serialize(ref writer, value.Payload, options);
        writer.Write("createdAt");
        writer.Write(value.CreatedAt.UtcDateTime);
        writer.Write("offset");
        writer.Write(value.Offset);
    }

    /// <inheritdoc />
    public ChangeEvent? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil()) return null;
        options.Security.DepthStep(ref reader);
        try
        {
            long seq = 0;
            string projectId = "", type = "", offset = "";
            string? sessionId = null;
            JsonElement payload = default;
            DateTimeOffset createdAt = default;
            var count = reader.ReadMapHeader();
            for (var i = 0; i < count; i++)
            {
                switch (reader.ReadString())
                {
                    case "seq": seq = reader.ReadInt64(); break;
                    case "projectId": projectId = reader.ReadString() ?? ""; break;
                    case "sessionId": sessionId = reader.ReadString(); break;
                    case "type": type = reader.ReadString() ?? ""; break;
                    case "payload": payload = JsonElementFormatter.Instance.Deserialize(ref reader, options); break;
                    case "createdAt": createdAt = ReadTimestamp(ref reader); break;
                    case "offset": offset = reader.ReadString() ?? ""; break;
                    default: reader.Skip(); break;
                }
            }
            return new ChangeEvent
            {
                Seq = seq, ProjectId = projectId, SessionId = sessionId, Type = type,
                Payload = payload, CreatedAt = createdAt, Offset = offset,
            };
        }
        finally
        {
            reader.Depth--;
        }
    }

    /// <summary>The timestamp extension (always UTC); an ISO 8601 string is accepted too.</summary>
    internal static DateTimeOffset ReadTimestamp(ref MessagePackReader reader)
    {
        if (reader.NextMessagePackType == MessagePackType.String)
            return DateTimeOffset.Parse(reader.ReadString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();
        return new DateTimeOffset(DateTime.SpecifyKind(reader.ReadDateTime(), DateTimeKind.Utc));
    }
}
