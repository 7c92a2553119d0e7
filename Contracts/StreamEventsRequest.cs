using System.Runtime.Serialization;
using System.Text.Json.Serialization;

namespace EventHub.Contracts;

/// <summary>
/// The argument of <see cref="EventHubMethods.StreamEvents"/>: what to stream and from where. Same
/// meaning as the SSE endpoint's query.
/// </summary>
[DataContract]
public sealed class StreamEventsRequest
{
    /// <summary>Projects to stream; null or empty means every project.</summary>
    [DataMember(Name = "projects")]
    [JsonPropertyName("projects")]
    public IReadOnlyList<string>? Projects { get; init; }

    /// <summary>
    /// Event types, exact (<c>pr_updated</c>) or a family prefix ending in <c>*</c>
    /// (<see cref="EventTypes.PrFamily"/>); null or empty means every type.
    /// </summary>
    [DataMember(Name = "types")]
    [JsonPropertyName("types")]
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>
    /// The opaque offset to resume after (<see cref="ChangeEvent.Offset"/> of the last event
    /// processed); <see cref="Beginning"/> for the whole log; null for "from now".
    /// </summary>
    [DataMember(Name = "after")]
    [JsonPropertyName("after")]
    public string? After { get; init; }

    /// <summary>
    /// True: the stream ends with a final item that says how (a <see cref="StreamSignal"/>: reset
    /// or error, with its code) and then completes without an error; false (the default, and every
    /// client written before this field): it ends with a HubException whose text says it.
    /// </summary>
    [DataMember(Name = "signalItems")]
    [JsonPropertyName("signalItems")]
    public bool SignalItems { get; init; }

    /// <summary>The offset that means "from the beginning of the log".</summary>
    public const string Beginning = "0";
}
