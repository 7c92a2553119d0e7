using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventHub.SignalR.Internal;

/// <summary>Writes a <see cref="SharedChangeEvent"/> as its cached wire JSON, unchanged. Write-only: the hub never reads events.</summary>
internal sealed class SharedChangeEventJsonConverter : JsonConverter<SharedChangeEvent>
{
    public override SharedChangeEvent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("The hub only sends change events.");

    public override void Write(Utf8JsonWriter writer, SharedChangeEvent value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Json.Span, skipInputValidation: true);
}
