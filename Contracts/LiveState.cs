using System.Runtime.Serialization;
using System.Text.Json.Serialization;

namespace EventHub.Contracts;

/// <summary>
/// The live state of the log at one offset (hub method <see cref="EventHubMethods.GetState"/>,
/// <c>GET /api/v1/state</c>): the latest event of every entity, exactly as of <see cref="Offset"/>.
/// Streaming after <see cref="Offset"/> gives exactly the later changes.
/// </summary>
[DataContract]
public sealed class LiveState
{
    /// <summary>The offset the state is exact at: resume the stream from it.</summary>
    [DataMember(Name = "offset")]
    [JsonPropertyName("offset")]
    public string Offset { get; init; } = "";

    /// <summary>One entry per entity (a session, a PR, a check, a review thread, or a configured kind).</summary>
    [DataMember(Name = "entities")]
    [JsonPropertyName("entities")]
    public IReadOnlyList<LiveEntity> Entities { get; init; } = [];

    /// <summary>Event types in the selected projects that name no entity (no key configured): left out of the state.</summary>
    [DataMember(Name = "unkeyedTypes")]
    [JsonPropertyName("unkeyedTypes")]
    public IReadOnlyList<string> UnkeyedTypes { get; init; } = [];

    /// <summary>
    /// The key of every keyed event type (built-in and configured): key the events streamed after
    /// <see cref="Offset"/> by it, and an event lands on the same entity as in <see cref="Entities"/>.
    /// </summary>
    [DataMember(Name = "entityKeys")]
    [JsonPropertyName("entityKeys")]
    public IReadOnlyDictionary<string, LiveEntityKey> EntityKeys { get; init; } = new Dictionary<string, LiveEntityKey>();
}

/// <summary>Which entity an event type describes: its kind, and the payload fields whose values (in order) key it.</summary>
[DataContract]
public sealed class LiveEntityKey
{
    /// <summary>The entity's kind.</summary>
    [DataMember(Name = "kind")]
    [JsonPropertyName("kind")]
    public string Kind { get; init; } = "";

    /// <summary>The payload fields whose values, as a JSON array in this order, are the entity's key.</summary>
    [DataMember(Name = "fields")]
    [JsonPropertyName("fields")]
    public IReadOnlyList<string> Fields { get; init; } = [];
}

/// <summary>An entity and its latest event.</summary>
[DataContract]
public sealed class LiveEntity
{
    /// <summary>The entity's kind: <c>session</c>, <c>pr</c>, <c>check</c>, <c>thread</c>, or a configured one.</summary>
    [DataMember(Name = "kind")]
    [JsonPropertyName("kind")]
    public string Kind { get; init; } = "";

    /// <summary>The entity's key: the JSON array of its key fields' values (for a check, <c>["&lt;pr&gt;","&lt;name&gt;","&lt;commit&gt;"]</c>).</summary>
    [DataMember(Name = "key")]
    [JsonPropertyName("key")]
    public string Key { get; init; } = "";

    /// <summary>The entity's latest event as of the state's offset.</summary>
    [DataMember(Name = "event")]
    [JsonPropertyName("event")]
    public ChangeEvent Event { get; init; } = new();
}
