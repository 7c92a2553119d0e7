using MessagePack;
using MessagePack.Formatters;

namespace EventHub.SignalR.Internal;

/// <summary>Writes a <see cref="SharedChangeEvent"/> as its cached MessagePack map, unchanged. Write-only.</summary>
internal sealed class SharedChangeEventFormatter : IMessagePackFormatter<SharedChangeEvent?>
{
    public static SharedChangeEventFormatter Instance { get; } = new();

    public void Serialize(ref MessagePackWriter writer, SharedChangeEvent? value, MessagePackSerializerOptions options)
    {
        if (value is null) writer.WriteNil();
        else writer.WriteRaw(value.MessagePack.Span);
    }

    public SharedChangeEvent Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        throw new NotSupportedException("The hub only sends change events.");
}
