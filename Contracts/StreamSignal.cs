// Why the signal is a ChangeEvent with a reserved type rather than a new item type.
//
// Before, a SignalR client learnt of a reset or a stream error only from the HubException's text
// ("reset: <reason>: ... Continue from offset <offset>."), which it had to parse. Now a client that
// sets StreamEventsRequest.SignalItems gets the same information as data: the stream's last item
// is a ChangeEvent whose type is "reset" or "stream_error" and whose payload is exactly the data of
// the SSE frame of that name; the stream then completes without an error. Keeping the item type
// ChangeEvent means every protocol path stays as it is (the JSON converter, the MessagePack
// formatters, the hub's pre-encoded events, a .NET client's StreamAsChannelAsync<ChangeEvent>), and
// both clients read the payload with the code that reads the SSE frames. Clients that do not set
// the flag (every client before it existed) get the HubException as before.

using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace EventHub.Contracts;

/// <summary>
/// How a SignalR stream ended, as the final item of a stream opened with
/// <see cref="StreamEventsRequest.SignalItems"/>: a reset (<see cref="Code"/> is the reset reason,
/// <see cref="Offset"/> the offset to continue from) or an error (<see cref="Code"/> from
/// <see cref="ErrorCodes"/>; see <see cref="ErrorContract"/> for what a client does with it).
/// </summary>
/// <param name="Type"><see cref="StreamSignalTypes.Reset"/> or <see cref="StreamSignalTypes.StreamError"/>.</param>
/// <param name="Code">The reset reason or the error code.</param>
/// <param name="Message">What happened and what to do, for people.</param>
/// <param name="Offset">For a reset, the offset to continue from once state is refetched; otherwise null.</param>
public sealed record StreamSignal(string Type, string Code, string Message, string? Offset)
{
    /// <summary>Whether this is a reset (the stream continues from <see cref="Offset"/>) rather than an error.</summary>
    public bool IsReset => Type == StreamSignalTypes.Reset;

    /// <summary>A reset signal.</summary>
    public static StreamSignal ForReset(string reason, string message, string continueFrom) =>
        new(StreamSignalTypes.Reset, reason, message, continueFrom);

    /// <summary>An error signal.</summary>
    public static StreamSignal ForError(string code, string message) =>
        new(StreamSignalTypes.StreamError, code, message, null);

    /// <summary>
    /// The signal as the stream's final item: <see cref="ChangeEvent.Type"/> is <see cref="Type"/>,
    /// the payload the SSE frame's data, <see cref="ChangeEvent.Offset"/> the reset's offset (empty
    /// for an error), <see cref="ChangeEvent.Seq"/> 0 and <see cref="ChangeEvent.ProjectId"/> empty.
    /// </summary>
    public ChangeEvent ToItem(DateTimeOffset sentAt)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (IsReset)
            {
                json.WriteString("reason", Code);
                json.WriteString("message", Message);
                json.WriteString("offset", Offset);
            }
            else
            {
                json.WriteStartObject("error");
                json.WriteString("code", Code);
                json.WriteString("message", Message);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        using var document = JsonDocument.Parse(buffer.ToArray());
        return new ChangeEvent
        {
            Type = Type,
            Payload = document.RootElement.Clone(),
            CreatedAt = sentAt.ToUniversalTime(),
            Offset = Offset ?? "",
        };
    }

    /// <summary>
    /// Reads a final signal item; false for a change-log event (any other type) or a signal item
    /// without its required fields (a reset needs a reason and an offset, an error a code).
    /// </summary>
    public static bool TryRead(ChangeEvent item, [NotNullWhen(true)] out StreamSignal? signal)
    {
        ArgumentNullException.ThrowIfNull(item);
        signal = null;
        var payload = item.Payload;
        if (payload.ValueKind != JsonValueKind.Object) return false;
        if (item.Type == StreamSignalTypes.Reset)
        {
            if (String(payload, "reason") is not { } reason || String(payload, "offset") is not { } offset) return false;
            signal = ForReset(reason, String(payload, "message") ?? "", offset);
            return true;
        }
        if (item.Type == StreamSignalTypes.StreamError)
        {
            if (!TryReadError(payload, out var code, out var message)) return false;
            signal = ForError(code, message);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Reads the hub's error shape, <c>{"error":{"code","message"}}</c>: a <c>stream_error</c>
    /// item's payload, and the body of every HTTP error the hub answers. False without a code.
    /// </summary>
    public static bool TryReadError(JsonElement body, [NotNullWhen(true)] out string? code, out string message)
    {
        code = null;
        message = "";
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("error", out var error) ||
            error.ValueKind != JsonValueKind.Object || String(error, "code") is not { } found) return false;
        code = found;
        message = String(error, "message") ?? "";
        return true;
    }

    private static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
