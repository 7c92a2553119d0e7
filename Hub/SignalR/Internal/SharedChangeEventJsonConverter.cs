using System.Text.Json;
using System.Text.Json.Serialization;
using EventHub.Contracts;

namespace EventHub.SignalR.Internal;

/// <summary>
/// Writes a <see cref="SharedChangeEvent"/> as its cached wire JSON, unchanged, wherever a
/// <see cref="ChangeEvent"/> is written: a stream item (written as its runtime type) and the
/// <c>event</c> of every entity in <c>GetState</c>'s answer (a property declared as
/// <see cref="ChangeEvent"/>). A plain <see cref="ChangeEvent"/> is written by the contract's
/// default. Write-only: the hub never reads events.
/// </summary>
internal sealed class SharedChangeEventJsonConverter : JsonConverter<ChangeEvent>
{
    // The same options without this converter, for a plain ChangeEvent (built on first use; a
    // benign race may build two equal ones).
    private JsonSerializerOptions? _plain;

    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert == typeof(ChangeEvent) || typeToConvert == typeof(SharedChangeEvent);

    public override ChangeEvent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("The hub only sends change events.");

    public override void Write(Utf8JsonWriter writer, ChangeEvent value, JsonSerializerOptions options)
    {
        if (value is SharedChangeEvent shared)
        {
            writer.WriteRawValue(shared.Json.Span, skipInputValidation: true);
            return;
        }
        JsonSerializer.Serialize(writer, value, _plain ??= Without(options));
    }

    private JsonSerializerOptions Without(JsonSerializerOptions options)
    {
        var plain = new JsonSerializerOptions(options);
        plain.Converters.Remove(this);
        return plain;
    }
}
