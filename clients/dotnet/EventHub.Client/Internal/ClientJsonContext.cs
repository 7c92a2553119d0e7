using System.Text.Json.Serialization;
using EventHub.Contracts;

namespace EventHub.Client.Internal;

/// <summary>
/// Source-generated JSON metadata of everything the client sends and receives over SignalR's JSON
/// protocol (the stream request, its items, the state, its pages, the head offset and project notices) and of the reset item's
/// payload. Without it the JSON protocol serializes by reflection, which an application built with
/// native AOT or trimming, or with reflection-based serialization switched off (a file-based app's
/// default), does not have: the stream request then failed to serialize on every attempt, and the
/// client retried it forever without a word.
/// </summary>
[JsonSerializable(typeof(StreamEventsRequest))]
[JsonSerializable(typeof(ChangeEvent))]
[JsonSerializable(typeof(LiveState))]
[JsonSerializable(typeof(LiveStatePage))]
[JsonSerializable(typeof(ProjectNotice))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
