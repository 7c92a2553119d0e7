using System.Globalization;
using System.Text.Json;

namespace EventHub.Client.Internal;

/// <summary>
/// Lenient reads of payload fields: a missing field or one of an unexpected kind gives the
/// default instead of an exception, so a trigger that changes shape never breaks a consumer.
/// </summary>
internal static class PayloadReader
{
    public static string String(JsonElement payload, string name)
    {
        if (!TryGet(payload, name, out var value)) return "";
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() ?? "",
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => "",
        };
    }

    public static string? NullableString(JsonElement payload, string name) =>
        TryGet(payload, name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static bool Bool(JsonElement payload, string name) =>
        TryGet(payload, name, out var value) && value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.String => bool.TryParse(value.GetString(), out var b) && b,
            _ => false,
        };

    public static int? Int(JsonElement payload, string name)
    {
        if (!TryGet(payload, name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i)) return i;
        if (value.ValueKind == JsonValueKind.String &&
            int.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out i)) return i;
        return null;
    }

    private static bool TryGet(JsonElement payload, string name, out JsonElement value)
    {
        value = default;
        return payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty(name, out value);
    }
}
