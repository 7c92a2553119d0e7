// Why Payload is a JsonElement, and how it stays encoded once.
//
// The payload is a JSON object built by a database trigger; its fields depend on the event type and
// new families (tracker_*) will add more. A JsonElement is the .NET shape of "some JSON object": it
// is in the BCL (this assembly stays dependency-free), it reads the same way whatever protocol
// carried it, and a typed client turns it into its own record with payload.Deserialize<T>(). The
// alternative, Dictionary<string, object?>, also crosses both protocols, but its values come back
// as JsonElement over JSON and as byte/long/string over MessagePack, so every reader would need two
// code paths.
//
// On the wire the payload is an object over JSON and a map over MessagePack, never a string of
// JSON. The JSON protocol reads a JsonElement natively; over MessagePack a .NET client registers the
// resolver of EventHub.Contracts.MessagePack (EventHubMessagePack.Options), which turns the map into
// a JsonElement and reads createdAt from the standard timestamp extension.
//
// The hub does not serialize this type per subscriber: it sends one shared instance per logged event
// (a subclass carrying its pre-encoded JSON and MessagePack forms), written raw into every
// subscriber's stream. That is why the class is not sealed.

using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventHub.Contracts;

/// <summary>
/// One committed change-log event, as the hub streams it: the wire shape of the CDC contract
/// (<c>seq</c>, <c>projectId</c>, <c>sessionId</c>, <c>type</c>, <c>payload</c>, <c>createdAt</c>)
/// plus the <c>offset</c> to resume after it.
/// </summary>
[DataContract]
public class ChangeEvent
{
    /// <summary>The log's <c>seq</c>: an idempotency key to dedup by. It is not the delivery order; the offset is.</summary>
    [DataMember(Name = "seq")]
    [JsonPropertyName("seq")]
    public long Seq { get; init; }

    /// <summary>The project the event belongs to.</summary>
    [DataMember(Name = "projectId")]
    [JsonPropertyName("projectId")]
    public string ProjectId { get; init; } = "";

    /// <summary>The session the event belongs to, or null for a project-level event.</summary>
    [DataMember(Name = "sessionId")]
    [JsonPropertyName("sessionId")]
    public string? SessionId { get; init; }

    /// <summary>The event type, for example <see cref="EventTypes.PrUpdated"/>. Types not in <see cref="EventTypes"/> may arrive.</summary>
    [DataMember(Name = "type")]
    [JsonPropertyName("type")]
    public string Type { get; init; } = "";

    /// <summary>The payload object the trigger built; its fields depend on <see cref="Type"/>.</summary>
    [DataMember(Name = "payload")]
    [JsonPropertyName("payload")]
    public JsonElement Payload { get; init; }

    /// <summary>When the change was made, in UTC (the offset is always zero).</summary>
    [DataMember(Name = "createdAt")]
    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// The opaque offset to resume after this event: store it, send it back as
    /// <see cref="StreamEventsRequest.After"/>, never compute with it.
    /// </summary>
    [DataMember(Name = "offset")]
    [JsonPropertyName("offset")]
    public string Offset { get; init; } = "";

    /// <inheritdoc />
    public override string ToString() => $"{Type} {ProjectId}/{SessionId} seq={Seq} offset={Offset}";
}
