using System.Runtime.Serialization;
using System.Text.Json.Serialization;

namespace EventHub.Contracts;

/// <summary>
/// One item of the hub method <see cref="EventHubMethods.StreamState"/>: a <see cref="LiveState"/>
/// cut into pages, in order, sent while the hub reads the state. The first page carries the header
/// (<see cref="UnkeyedTypes"/>, <see cref="EntityKeys"/>), the last the number of entities of all
/// pages (<see cref="EntityCount"/>; one page can be both); every page carries the same
/// <see cref="Offset"/>. The stream's normal end is the state's end: the entities of all pages
/// are the state's <see cref="LiveState.Entities"/> (in the order of <c>GET /api/v1/state</c>, which
/// is no particular one); a read that fails midway fails the stream.
/// </summary>
/// <remarks>
/// Why pages: a state of 10,000 entities is a message of ~3.5 MB, and SignalR's .NET client looks
/// for the end of a JSON message from its first byte again after every read of the socket (4 KB),
/// so one such message costs it time that grows with the square of its size (~70-90 ms of a
/// ~200 ms answer on a 2-core machine). Pages of a few hundred entities also keep both sides from
/// holding the whole answer as one buffer.
/// </remarks>
[DataContract]
public sealed class LiveStatePage
{
    /// <summary>The offset the state is exact at: the same on every page.</summary>
    [DataMember(Name = "offset")]
    [JsonPropertyName("offset")]
    public string Offset { get; init; } = "";

    /// <summary>The next entities of the state.</summary>
    [DataMember(Name = "entities")]
    [JsonPropertyName("entities")]
    public IReadOnlyList<LiveEntity> Entities { get; init; } = [];

    /// <summary>On the last page: how many entities the pages hold together. Null on the others.</summary>
    [DataMember(Name = "entityCount")]
    [JsonPropertyName("entityCount")]
    public int? EntityCount { get; init; }

    /// <summary>On the first page: <see cref="LiveState.UnkeyedTypes"/>. Null on the others.</summary>
    [DataMember(Name = "unkeyedTypes")]
    [JsonPropertyName("unkeyedTypes")]
    public IReadOnlyList<string>? UnkeyedTypes { get; init; }

    /// <summary>On the first page: <see cref="LiveState.EntityKeys"/>. Null on the others.</summary>
    [DataMember(Name = "entityKeys")]
    [JsonPropertyName("entityKeys")]
    public IReadOnlyDictionary<string, LiveEntityKey>? EntityKeys { get; init; }
}
