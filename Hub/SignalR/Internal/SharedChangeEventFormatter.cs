using EventHub.Contracts;
using EventHub.Contracts.MessagePack;
using MessagePack;
using MessagePack.Formatters;

namespace EventHub.SignalR.Internal;

/// <summary>
/// Writes a <see cref="SharedChangeEvent"/> as its cached MessagePack map, unchanged, wherever a
/// <see cref="ChangeEvent"/> is written: a stream item (resolved by its runtime type) and the
/// <c>event</c> of every entity in <c>GetState</c>'s answer (resolved as <see cref="ChangeEvent"/>).
/// A plain <see cref="ChangeEvent"/> goes to the contract's <see cref="ChangeEventFormatter"/>. Write-only.
/// </summary>
internal sealed class SharedChangeEventFormatter : IMessagePackFormatter<SharedChangeEvent?>, IMessagePackFormatter<ChangeEvent?>
{
    public static SharedChangeEventFormatter Instance { get; } = new();

    public void Serialize(ref MessagePackWriter writer, SharedChangeEvent? value, MessagePackSerializerOptions options) =>
        Serialize(ref writer, (ChangeEvent?)value, options);

    public void Serialize(ref MessagePackWriter writer, ChangeEvent? value, MessagePackSerializerOptions options)
    {
        if (value is SharedChangeEvent shared) writer.WriteRaw(shared.MessagePack.Span);
        else ChangeEventFormatter.Instance.Serialize(ref writer, value, options);
    }

    SharedChangeEvent IMessagePackFormatter<SharedChangeEvent?>.Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        throw new NotSupportedException("The hub only sends change events.");

    ChangeEvent IMessagePackFormatter<ChangeEvent?>.Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        throw new NotSupportedException("The hub only sends change events.");
}
