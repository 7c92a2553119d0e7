namespace EventHub.Client;

/// <summary>The SignalR hub protocol the client speaks. Both carry the same events.</summary>
public enum EventHubProtocol
{
    /// <summary>JSON text frames (the default): readable on the wire, no extra setup.</summary>
    Json,

    /// <summary>
    /// MessagePack binary frames: smaller and cheaper to parse. Payloads arrive as the same
    /// <see cref="System.Text.Json.JsonElement"/>. Not in a native AOT application (MessagePack's
    /// serializer generates code at run time); JSON works there.
    /// </summary>
    MessagePack,
}
